"""The push streams' metrics, read from the fan-out at scrape time.

Nothing is counted per event per stream in Prometheus' objects: the fan-out
keeps plain ints (``PushCounts``), and one histogram observation is made per
batch of events, not per stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.push.fanout import Fanout
from gateway.push.stream import CloseReason, StreamKind

DELIVERY_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
"""A batch reaches every stream within a loop iteration; tens of ms mean thousands of streams."""

NAMES: Final = (
    "ajam_push_streams",
    "ajam_push_streams_lagging",
    "ajam_push_streams_opened",
    "ajam_push_streams_closed",
    "ajam_push_streams_refused",
    "ajam_push_events",
    "ajam_push_bytes",
    "ajam_push_events_lost",
    "ajam_push_lagged",
    "ajam_push_queued_bytes",
    "ajam_push_delivery_seconds",
)
"""Every family this module exposes (docs/operations.md's metrics table lists each)."""


def delivery_histogram(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        "ajam_push_delivery_seconds",
        "Per batch of events written to streams: from its first event's arrival"
        " to the end of the pass over every live stream",
        buckets=DELIVERY_BUCKETS,
        registry=registry,
    )


class PushCollector(Collector):
    def __init__(self, fanout: Fanout) -> None:
        self._fanout = fanout

    def collect(self) -> Iterator[Metric]:
        fanout = self._fanout
        counts = fanout.counts
        streams = GaugeMetricFamily("ajam_push_streams", "Push streams open", labels=("kind",))
        opened = CounterMetricFamily(
            "ajam_push_streams_opened", "Push streams opened", labels=("kind",)
        )
        closed = CounterMetricFamily(
            "ajam_push_streams_closed", "Push streams closed, by reason", labels=("kind", "reason")
        )
        events = CounterMetricFamily(
            "ajam_push_events", "Events written to push streams (one per stream)", labels=("kind",)
        )
        sent = CounterMetricFamily(
            "ajam_push_bytes",
            "Bytes written to push streams: events, notices, heartbeats, replies",
            labels=("kind",),
        )
        for kind in StreamKind:
            tally = counts.kinds[kind]
            streams.add_metric((kind.value,), fanout.open_count(kind))
            opened.add_metric((kind.value,), tally.opened)
            events.add_metric((kind.value,), tally.events)
            sent.add_metric((kind.value,), tally.bytes)
            for reason in CloseReason:
                closed.add_metric((kind.value, reason.value), tally.closed[reason])
        yield from (streams, opened, closed, events, sent)
        yield GaugeMetricFamily(
            "ajam_push_streams_lagging",
            "Push streams not written for now: their client has not read what they hold",
            value=fanout.lagging_count,
        )
        refused = CounterMetricFamily(
            "ajam_push_streams_refused", "Push streams refused, by limit", labels=("limit",)
        )
        for limit in ("max_streams", "max_streams_per_session", "max_streams_per_address"):
            refused.add_metric((limit,), counts.refused[limit])
        yield refused
        yield CounterMetricFamily(
            "ajam_push_events_lost",
            "Events the ring dropped before a stream read them (told as GatewayEventsLost)",
            value=counts.lost,
        )
        yield CounterMetricFamily(
            "ajam_push_lagged",
            "Times a stream stopped being written: its buffer or the send budget was full",
            value=counts.lagged,
        )
        yield GaugeMetricFamily(
            "ajam_push_queued_bytes",
            "Bytes written to streams that their clients have not read yet",
            value=fanout.queued_bytes,
        )
