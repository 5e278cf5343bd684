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

The collectors that read those levels are ``gateway.core.collectors``.  No
asyncio or aiohttp here: the HTTP side is ``gateway/http/metricsview.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from gateway.ami.message import Message
from gateway.core.collectors import (
    BudgetCounts,
    CacheCounts,
    ConnectionCounts,
    Connections,
    EventCounts,
    Levels,
    LinkCounts,
    LoginCounts,
    Logins,
    LoopHistogram,
    Memory,
    RingCounts,
    SessionCounts,
)
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
        self.delivery = LoopHistogram(
            "ajam_event_delivery_seconds",
            "Per waitevent response with events: age of its oldest event when the response is made",
            DELIVERY_BUCKETS,
        )
        self.registry.register(self.delivery)
        self.registry.register(EventCounts(self))
        # labels() validates and locks on every call (≈3 % of a forwarded
        # ping in the rtt profile); the children are kept here instead.  Both
        # label sets are bounded: known action names or ``other`` times a few
        # outcomes, and HTTP status codes.
        self._action_counts: dict[tuple[str, str, str], Counter] = {}
        self._status_counts: dict[int, Counter] = {}

    def watch(self, sessions: SessionCounts, link: LinkCounts) -> None:
        """Expose the levels of these live objects, read at scrape time."""
        self.registry.register(Levels(sessions, link))

    def watch_memory(self, ring: RingCounts, budget: BudgetCounts) -> None:
        """Expose the event ring's and the send budget's bytes, read at scrape time."""
        self.registry.register(Memory(ring, budget))

    def watch_logins(self, logins: LoginCounts, cache: CacheCounts) -> None:
        """Expose the HTTP users' failed logins and the login cache, read at scrape time."""
        self.registry.register(Logins(logins, cache))

    def watch_connections(self, counts: ConnectionCounts) -> None:
        """Expose the HTTP server's connection counts (``GatewayRunner``), read at scrape time."""
        self.registry.register(Connections(counts))

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


def names(registry: CollectorRegistry) -> list[str]:
    """Every metric family name the registry exposes (for docs and tests)."""
    return [metric.name for metric in registry.collect()]
