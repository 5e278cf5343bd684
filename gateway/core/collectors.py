"""What ``/metrics`` reads from the live objects, at scrape time.

Each collector reads one group of levels and counters from the objects that
keep them (the session store, the AMI link, the event ring, the send
budget, the login gate and cache, the HTTP server's connection counts, the
``Metrics`` object's own plain ints), through a ``Protocol`` naming only
what it reads, so that nothing is counted twice and nothing here imports
those objects.  ``gateway.core.metrics.Metrics`` registers them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Final, Protocol, cast

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from gateway.core.replies import Door

_le = cast(Callable[[float], str], floatToGoString)
"""A bound as prometheus-client writes ``le`` (``0.5``, ``1.0``, ``+Inf``)."""


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


class EventTallies(Protocol):
    """What the per-event counters read (``gateway.core.metrics.Metrics``)."""

    events_received: int
    events_delivered: int
    events_lost: int
    events_filtered: int


class EventCounts(Collector):
    """The per-event counters are plain ints (no lock, no label lookup)."""

    def __init__(self, metrics: EventTallies) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self._metrics
        yield counter("ajam_events_received", "Events received from AMI", m.events_received)
        yield counter(
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


class Levels(Collector):
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
        yield counter("ajam_ami_reconnects", "AMI reconnect attempts", link.reconnects)
        yield counter("ajam_ami_login_failures", "AMI logins refused", link.login_failures)


class Memory(Collector):
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
        yield counter(
            "ajam_send_budget_shrunk",
            "Poll answers cut below reply_bytes for lack of room in the send budget",
            budget.shrunk,
        )
        yield counter(
            "ajam_send_budget_waits",
            "Times a poll with events waited for room in the send budget",
            budget.waited,
        )


class Logins(Collector):
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
        yield by_label(
            "ajam_login_cache",
            "Plain-secret checks (Login, HTTP Basic) by whether a recent right one answered them",
            "result",
            {"hit": cache.hits, "miss": cache.misses},
        )
        yield GaugeMetricFamily(
            "ajam_login_cache_entries", "Right secrets remembered", value=len(cache)
        )


class Connections(Collector):
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
        yield by_label(
            "ajam_http_connections_refused",
            "HTTP connections refused at once, by the [limits] key that refused them",
            "limit",
            counts.refused,
        )
        yield by_label(
            "ajam_http_connections_timed_out",
            "HTTP connections closed by a timeout, by its [limits] key",
            "timeout",
            counts.timed_out,
        )


def by_label(
    name: str, documentation: str, label: str, counts: Mapping[str, int]
) -> CounterMetricFamily:
    """A counter with one label, a sample per key (keys the gateway chose, never input)."""
    family = CounterMetricFamily(name, documentation, labels=(label,))
    for key, count in sorted(counts.items()):
        family.add_metric((key,), count)
    return family


def counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


class LoopHistogram(Collector):
    """A histogram observed from the event loop's thread only, without locks.

    prometheus-client's ``Histogram.observe`` takes a lock twice and walks its
    bounds in Python: ~12 % of the AMI door's samples at 500 clients x 100
    events/s, where every write to a client observes once.  Here one
    observation is a ``bisect`` and three additions; the exposition is the
    same family (``_bucket`` by ``le``, cumulative, ``_count``, ``_sum``)
    without a ``_created`` sample, as the instruments are shown.
    """

    def __init__(self, name: str, documentation: str, buckets: Sequence[float]) -> None:
        self._name = name
        self._documentation = documentation
        self._bounds = (*sorted(buckets), float("inf"))
        self._labels = [_le(bound) for bound in self._bounds]
        self._counts = [0] * len(self._bounds)
        self._sum = 0.0

    def observe(self, amount: float) -> None:
        # The first bound at or above the amount: Prometheus's ``le``.
        self._counts[bisect_left(self._bounds, amount)] += 1
        self._sum += amount

    def collect(self) -> Iterator[Metric]:
        total, buckets = 0, []
        for label, count in zip(self._labels, self._counts, strict=True):
            total += count
            buckets.append((label, total))
        yield HistogramMetricFamily(
            self._name, self._documentation, buckets=buckets, sum_value=self._sum
        )
