"""Prometheus metrics of one gateway instance, in its own registry.

Every app gets its own ``CollectorRegistry`` (never the library's global
default), so that two instances in one process, or two tests, never share a
number.  It also carries prometheus-client's ``process_*`` series (open and
maximum descriptors, memory, CPU) and no ``NAME_created`` series.  The hot
paths stay cheap: an event from AMI costs one increment of a plain int, and
a waitevent response costs a few increments and one histogram observation
however many events it carries; nothing is counted per event per session.
Levels (sessions, pending polls, the AMI link) are read from the live
objects only when ``/metrics`` is scraped.

No asyncio or aiohttp here: the HTTP side is ``gateway/http/metricsview.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Final, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.ami.message import Message
from gateway.core.events import StoredEvent
from gateway.core.replies import Door, Reply

OTHER: Final = "other"
"""The label of an action the gateway does not know: client input must not
mint new time series."""

OUTCOMES: Final = {
    "Permission denied": "denied",
    "Asterisk is not connected": "not_connected",
    "Timeout waiting for Asterisk": "timeout",
}
"""Error Messages worth their own outcome label; every other error is ``error``."""

AMI_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""An AMI round trip is ~1 ms on a LAN; the top bucket is the default action_timeout."""

DELIVERY_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
"""A held poll answers within a loop iteration; seconds mean a client that polls late."""


class SessionCounts(Protocol):
    """What the sessions gauges read (``gateway.core.sessionstore.SessionStore``)."""

    @property
    def waiting_count(self) -> int: ...

    def count(self, door: Door = ...) -> int: ...

    def authenticated_count(self, door: Door = ...) -> int: ...


class LinkCounts(Protocol):
    """What the AMI gauges read (``gateway.ami.client.AmiClient``)."""

    @property
    def ready(self) -> bool: ...

    reconnects: int
    login_failures: int


class RingCounts(Protocol):
    """What the ring gauges read (``gateway.core.events.EventLog``)."""

    @property
    def held(self) -> int: ...

    @property
    def held_bytes(self) -> int: ...

    max_bytes: int
    evicted_by_count: int
    evicted_by_bytes: int


class BudgetCounts(Protocol):
    """What the send budget gauges read (``gateway.core.sendbudget.SendBudget``)."""

    limit: int
    used: int
    peak: int
    shrunk: int
    waited: int

    @property
    def waiting(self) -> int: ...


class LoginCounts(Protocol):
    """What the login failure counter reads (``gateway.core.security.SecurityEvents``)."""

    @property
    def failed(self) -> Mapping[tuple[Door, str], int]: ...


class CacheCounts(Protocol):
    """What the login cache counters read (``gateway.core.logincache.VerifiedLogins``)."""

    hits: int
    misses: int

    def __len__(self) -> int: ...


class ConnectionCounts(Protocol):
    """What the connection metrics read (``gateway.http.server.ConnectionCounts``)."""

    @property
    def refused(self) -> Mapping[str, int]: ...

    @property
    def timed_out(self) -> Mapping[str, int]: ...

    @property
    def open(self) -> int: ...

    @property
    def max_open(self) -> int: ...


def outcome_of(reply: Reply | None) -> str:
    """``success``, ``error`` or one of ``OUTCOMES``, from the first message."""
    if reply is None or not reply.head:
        return "error"
    first = reply.head[0]
    if first.name.lower() != "error":
        return "success"
    return OUTCOMES.get(first.get("Message") or "", "error")


class Metrics:
    """The instance's counters; ``registry`` is what ``/metrics`` exposes."""

    def __init__(self, action_name: Callable[[str], str | None] = lambda _: None) -> None:
        self.registry = CollectorRegistry()
        self._action_name = action_name
        """Action as Asterisk spells it, or None when unknown (→ ``other``)."""
        self.events_received = 0
        self.events_delivered = 0
        self.events_lost = 0
        self.events_filtered = 0
        self.instruments = instruments = CollectorRegistry()
        """Where prometheus-client's own Counter and Histogram objects go
        (here and in other packages): exposed in ``registry`` without their
        NAME_created series (``_WithoutCreated``)."""
        self.registry.register(_WithoutCreated(instruments))
        # process_open_fds against process_max_fds (the unit's LimitNOFILE),
        # RSS, CPU: read from /proc at scrape time (nothing off Linux).
        ProcessCollector(registry=self.registry)
        self.actions = Counter(
            "ajam_actions",
            "Actions answered, by action, outcome and door (http: AJAM, ami: the AMI door)",
            ("action", "outcome", "door"),
            registry=instruments,
        )
        self.http_requests = Counter(
            "ajam_http_requests",
            "HTTP requests answered, by status",
            ("status",),
            registry=instruments,
        )
        self.ami_roundtrip = Histogram(
            "ajam_ami_roundtrip_seconds",
            "Time from sending an action to AMI to its complete answer (sync Originate excluded)",
            buckets=AMI_BUCKETS,
            registry=instruments,
        )
        self.delivery = Histogram(
            "ajam_event_delivery_seconds",
            "Per waitevent response with events: age of its oldest event when the response is made",
            buckets=DELIVERY_BUCKETS,
            registry=instruments,
        )
        self.registry.register(_EventCounts(self))
        # labels() validates and locks on every call (≈3 % of a forwarded
        # ping in the rtt profile); the children are kept here instead.  Both
        # label sets are bounded: known action names or ``other`` times a few
        # outcomes, and HTTP status codes.
        self._action_counts: dict[tuple[str, str, str], Counter] = {}
        self._status_counts: dict[int, Counter] = {}

    def watch(self, sessions: SessionCounts, link: LinkCounts) -> None:
        """Expose the levels of these live objects, read at scrape time."""
        self.registry.register(_Levels(sessions, link))

    def watch_memory(self, ring: RingCounts, budget: BudgetCounts) -> None:
        """Expose the event ring's and the send budget's bytes, read at scrape time."""
        self.registry.register(_Memory(ring, budget))

    def watch_logins(self, logins: LoginCounts, cache: CacheCounts) -> None:
        """Expose the HTTP users' failed logins and the login cache, read at scrape time."""
        self.registry.register(_Logins(logins, cache))

    def watch_connections(self, counts: ConnectionCounts) -> None:
        """Expose the HTTP server's connection counts (``GatewayRunner``), read at scrape time."""
        self.registry.register(_Connections(counts))

    def action(self, name: str, reply: Reply | None, door: Door = Door.HTTP) -> None:
        label = self._action_name(name) if name else None
        key = (label or OTHER, outcome_of(reply), door.value)
        child = self._action_counts.get(key)
        if child is None:
            child = self._action_counts[key] = self.actions.labels(*key)
        child.inc()

    def http_status(self, status: int) -> None:
        """One HTTP answer with this status."""
        child = self._status_counts.get(status)
        if child is None:
            child = self._status_counts[status] = self.http_requests.labels(str(status))
        child.inc()

    def event_received(self, message: Message) -> None:
        """One event from AMI (a subscriber of the AMI event path)."""
        self.events_received += 1

    def delivered(self, events: Sequence[StoredEvent]) -> None:
        """One waitevent response: count its events, time its oldest."""
        if events:
            self.events_delivered += len(events)
            self.delivery.observe(time.monotonic() - events[0].received)

    def skipped(self, lost: int, filtered: int) -> None:
        """Events one poll passed over: dropped by the ring, or not for it."""
        self.events_lost += lost
        self.events_filtered += filtered


class _WithoutCreated(Collector):
    """A registry's families without their ``NAME_created`` samples.

    prometheus_client gives every counter and histogram child a ``_created``
    sample (when it was made): a second series per counter that dashboards
    and alerts never read, and that makes OpenMetrics scrapes twice the size.
    The library's switch, ``disable_created_metrics()``, flips a module
    global for every registry in the process (another library's, a test's);
    leaving it alone and dropping the samples here keeps the choice with
    this registry.  The gateway's own collectors never make ``_created``.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            created = family.name + "_created"
            family.samples = [sample for sample in family.samples if sample.name != created]
            yield family


class _EventCounts(Collector):
    """The per-event counters are plain ints (no lock, no label lookup)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self._metrics
        yield _counter("ajam_events_received", "Events received from AMI", m.events_received)
        yield _counter(
            "ajam_events_delivered", "Events written to waitevent responses", m.events_delivered
        )
        dropped = CounterMetricFamily(
            "ajam_events_dropped",
            "Events a session did not get: lost from the ring before it polled, or filtered out",
            labels=("reason",),
        )
        dropped.add_metric(("ring_overflow",), m.events_lost)
        dropped.add_metric(("filtered",), m.events_filtered)
        yield dropped


_DOOR_GAUGES: Final = (
    ("ajam_sessions", Door.HTTP, "HTTP sessions held"),
    ("ajam_ami_clients", Door.AMI, "AMI clients connected to the AMI door"),
)


class _Levels(Collector):
    def __init__(self, sessions: SessionCounts, link: LinkCounts) -> None:
        self._sessions = sessions
        self._link = link

    def collect(self) -> Iterator[Metric]:
        sessions, link = self._sessions, self._link
        for name, door, what in _DOOR_GAUGES:
            authenticated = sessions.authenticated_count(door)
            gauge = GaugeMetricFamily(name, what, labels=("state",))
            gauge.add_metric(("authenticated",), authenticated)
            gauge.add_metric(("unauthenticated",), sessions.count(door) - authenticated)
            yield gauge
        yield GaugeMetricFamily(
            "ajam_pending_polls", "waitevent requests held open", value=sessions.waiting_count
        )
        yield GaugeMetricFamily(
            "ajam_ami_up", "1 while logged in to AMI", value=1 if link.ready else 0
        )
        yield _counter("ajam_ami_reconnects", "AMI reconnect attempts", link.reconnects)
        yield _counter("ajam_ami_login_failures", "AMI logins refused", link.login_failures)


class _Memory(Collector):
    def __init__(self, ring: RingCounts, budget: BudgetCounts) -> None:
        self._ring = ring
        self._budget = budget

    def collect(self) -> Iterator[Metric]:
        ring, budget = self._ring, self._budget
        yield GaugeMetricFamily("ajam_event_ring_events", "Events held in the ring", ring.held)
        yield GaugeMetricFamily(
            "ajam_event_ring_bytes", "Bytes counted for the events held", ring.held_bytes
        )
        yield GaugeMetricFamily(
            "ajam_event_ring_max_bytes", "[events] ring_bytes", value=ring.max_bytes
        )
        evicted = CounterMetricFamily(
            "ajam_event_ring_evictions",
            "Events dropped from the ring to make room, by the bound that was reached",
            labels=("reason",),
        )
        evicted.add_metric(("count",), ring.evicted_by_count)
        evicted.add_metric(("bytes",), ring.evicted_by_bytes)
        yield evicted
        yield GaugeMetricFamily(
            "ajam_send_queued_bytes",
            "Bytes of answers being written to clients (counted twice: body and transport copy)",
            value=budget.used,
        )
        yield GaugeMetricFamily(
            "ajam_send_queued_max_bytes", "[limits] queued_bytes", value=budget.limit
        )
        yield GaugeMetricFamily(
            "ajam_send_queued_peak_bytes",
            "Highest ajam_send_queued_bytes so far",
            value=budget.peak,
        )
        yield GaugeMetricFamily(
            "ajam_send_budget_waiting_polls",
            "Polls with events waiting for room in the send budget",
            value=budget.waiting,
        )
        yield _counter(
            "ajam_send_budget_shrunk",
            "Poll answers cut below reply_bytes for lack of room in the send budget",
            budget.shrunk,
        )
        yield _counter(
            "ajam_send_budget_waits",
            "Times a poll with events waited for room in the send budget",
            budget.waited,
        )


class _Logins(Collector):
    def __init__(self, logins: LoginCounts, cache: CacheCounts) -> None:
        self._logins = logins
        self._cache = cache

    def collect(self) -> Iterator[Metric]:
        failed = CounterMetricFamily(
            "ajam_login_failures",
            "Users' failed logins (Login, Basic, Digest; the AMI door), by security event and door",
            labels=("event", "door"),
        )
        for (door, event), count in sorted(
            self._logins.failed.items(), key=lambda item: (item[0][0].value, item[0][1])
        ):
            failed.add_metric((event, door.value), count)
        yield failed
        cache = self._cache
        yield _by_label(
            "ajam_login_cache",
            "Plain-secret checks (Login, HTTP Basic) by whether a recent right one answered them",
            "result",
            {"hit": cache.hits, "miss": cache.misses},
        )
        yield GaugeMetricFamily(
            "ajam_login_cache_entries", "Right secrets remembered", value=len(cache)
        )


class _Connections(Collector):
    def __init__(self, counts: ConnectionCounts) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        counts = self._counts
        yield GaugeMetricFamily(
            "ajam_http_connections", "HTTP connections open (admitted)", value=counts.open
        )
        yield GaugeMetricFamily(
            "ajam_http_max_connections",
            "[limits] max_connections: connections beyond it are refused",
            value=counts.max_open,
        )
        yield _by_label(
            "ajam_http_connections_refused",
            "HTTP connections refused at once, by the [limits] key that refused them",
            "limit",
            counts.refused,
        )
        yield _by_label(
            "ajam_http_connections_timed_out",
            "HTTP connections closed by a timeout, by its [limits] key",
            "timeout",
            counts.timed_out,
        )


def _by_label(
    name: str, documentation: str, label: str, counts: Mapping[str, int]
) -> CounterMetricFamily:
    """A counter with one label, a sample per key (keys the gateway chose, never input)."""
    family = CounterMetricFamily(name, documentation, labels=(label,))
    for key, count in sorted(counts.items()):
        family.add_metric((key,), count)
    return family


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def names(registry: CollectorRegistry) -> list[str]:
    """Every metric family name the registry exposes (for docs and tests)."""
    return [metric.name for metric in registry.collect()]
