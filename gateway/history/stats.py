"""The recorder's counters for ``/metrics``, read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.history.recorder import Recorder


class RecorderStats(Collector):
    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def collect(self) -> Iterator[Metric]:
        recorder = self._recorder
        yield CounterMetricFamily(
            "ajam_history_recorded", "Calls written to the history store", value=recorder.written
        )
        dropped = CounterMetricFamily(
            "ajam_history_dropped",
            "Cdr events not recorded: the queue was full, or their times were unreadable",
            labels=("reason",),
        )
        dropped.add_metric(("queue_full",), recorder.batcher.dropped)
        dropped.add_metric(("unreadable",), recorder.bad)
        yield dropped
        yield GaugeMetricFamily(
            "ajam_history_queue", "Calls waiting to be written", value=len(recorder.batcher)
        )
