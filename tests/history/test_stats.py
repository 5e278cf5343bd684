from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from gateway.ami.message import Message
from gateway.core.metrics import names
from gateway.history.recorder import Recorder
from gateway.history.settings import HistoryConfig
from gateway.history.stats import RecorderStats
from tests.support.docs import metrics_text
from tests.support.historydata import call, cdr_message


async def test_counts_and_the_metrics_page_lists_them(tmp_path: Path) -> None:
    config = HistoryConfig(enabled=True, path=str(tmp_path / "s.sqlite3"), queue_size=1)
    recorder = Recorder(config)
    registry = CollectorRegistry()
    registry.register(RecorderStats(recorder))
    await recorder.start()
    recorder.on_event(Message(call("1", "2", "2026-11-27 10:00:00")))
    recorder.on_event(Message(call("1", "2", "2026-11-27 10:00:01")))  # the queue is full
    recorder.on_event(cdr_message({"StartTime": "", "EndTime": ""}))
    assert registry.get_sample_value("ajam_history_queue") == 1
    assert registry.get_sample_value("ajam_history_dropped_total", {"reason": "queue_full"}) == 1
    assert registry.get_sample_value("ajam_history_dropped_total", {"reason": "unreadable"}) == 1
    await recorder.close()
    assert registry.get_sample_value("ajam_history_recorded_total") == 1
    page = metrics_text()
    for name in names(registry):
        assert f"| `{name}" in page, name
