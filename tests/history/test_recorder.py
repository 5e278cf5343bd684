from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from gateway.ami.message import Message
from gateway.history.query import HistoryQuery
from gateway.history.record import CdrRecord
from gateway.history.recorder import Batcher, Recorder
from gateway.history.settings import HistoryConfig
from tests.support.harness import until
from tests.support.historydata import call, cdr_message


def record(n: int) -> CdrRecord:
    return CdrRecord(n, None, None, 0, 0, src=str(n))


def test_batcher_bounds_and_counts_drops() -> None:
    batcher = Batcher(3)
    assert [batcher.offer(record(n)) for n in range(5)] == [True, True, True, False, False]
    assert (batcher.dropped, batcher.take_unreported(), batcher.take_unreported()) == (2, 2, 0)
    first = batcher.take(2)
    assert [r.start for r in first] == [0, 1]
    batcher.put_back(first)
    assert [r.start for r in batcher.take(10)] == [0, 1, 2]
    assert batcher.take(1) == []


def config(tmp_path: Path, **extra: object) -> HistoryConfig:
    values: dict[str, object] = {"enabled": True, "path": str(tmp_path / "r.sqlite3")}
    return HistoryConfig(**{**values, **extra})  # type: ignore[arg-type]


async def test_batches_are_written_in_the_background(tmp_path: Path) -> None:
    recorder = Recorder(config(tmp_path, batch_size=2, flush_interval=30))
    await recorder.start()
    recorder.on_event(Message.of(("Event", "Hangup")))  # not a Cdr: ignored
    recorder.on_event(Message(call("1", "2", "2026-11-27 10:00:00")))
    assert recorder.written == 0
    recorder.on_event(Message(call("3", "4", "2026-11-27 10:00:01")))  # a full batch wakes it
    await until(lambda: recorder.written >= 2)
    found = await recorder.query(HistoryQuery(limit=5))
    assert [r.src for r in found] == ["3", "1"]
    await recorder.close()
    assert await recorder.query(HistoryQuery(limit=5)) == []


async def test_overflow_is_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(config(tmp_path, queue_size=2, flush_interval=30))
    await recorder.start()
    for second in range(5):
        recorder.on_event(Message(call("1", "2", f"2026-11-27 10:00:0{second}")))
    assert recorder.batcher.dropped == 3
    with caplog.at_level(logging.WARNING, "gateway.history"):
        await recorder.close()
    assert "queue full, 3 calls were not recorded" in caplog.text
    assert recorder.written == 2


async def test_unreadable_cdr_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder(config(tmp_path))
    with caplog.at_level(logging.WARNING, "gateway.history"):
        recorder.on_event(cdr_message({"StartTime": "", "EndTime": ""}))
    assert recorder.bad == 1
    assert len(recorder.batcher) == 0
    assert "unreadable Cdr event" in caplog.text


async def test_a_failing_write_is_retried_not_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(config(tmp_path, flush_interval=0.01))
    await recorder.start()
    recorder.on_event(Message(call("1", "2", "2026-11-27 10:00:00")))
    store = recorder._store
    assert store is not None
    store._db.execute("DROP TABLE cdr")  # every insert now fails
    with caplog.at_level(logging.ERROR, "gateway.history"):
        await until(lambda: "will retry" in caplog.text)
        assert len(recorder.batcher) == 1  # put back, in order
        await recorder.close()
    assert "1 calls could not be written at stop" in caplog.text


async def test_prune_runs_at_start_and_on_its_interval(tmp_path: Path) -> None:
    recorder = Recorder(config(tmp_path, max_rows=1, prune_interval=0.01, flush_interval=0.01))
    await recorder.start()
    for second in range(3):
        recorder.on_event(Message(call("1", "2", f"2026-11-27 10:00:0{second}")))
    async with asyncio.timeout(5):
        while len(await recorder.query(HistoryQuery(limit=5))) != 1 or recorder.written < 3:
            await asyncio.sleep(0.02)
    await recorder.close()
