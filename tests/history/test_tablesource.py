"""TableSource's own logic, with rows handed in (the real drivers are tested
against real servers in tests/history/test_mysql_source.py and test_pg_source.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest

from gateway.errors import HistoryUnavailable
from gateway.history.query import HistoryQuery
from gateway.history.settings import HistoryConfig
from gateway.history.sqlplan import POSTGRES
from gateway.history.tablesource import TableSource

ROW = (datetime(2026, 11, 27, 9, 0), None, None, 3, 1, *[""] * 14)


class Canned(TableSource):
    dialect = POSTGRES
    errors = (LookupError,)
    columns_sql = "COLUMNS"

    def __init__(self, failure: BaseException | None = None) -> None:
        super().__init__(HistoryConfig(), HistoryConfig().postgresql)
        self.asked: list[str] = []
        self.failure = failure
        self._pool = object()

    async def fetch(self, sql: str, args: Sequence[object]) -> Sequence[Any]:
        self.asked.append(sql)
        if self.failure is not None:
            raise self.failure
        if sql == "COLUMNS":
            return [("calldate",), ("src",), ("dst",)]
        return [ROW]


async def test_the_shape_is_learnt_once() -> None:
    source = Canned()
    for _ in range(2):
        [record] = await source.query(HistoryQuery(limit=1, number="100"))
        assert (record.duration, record.billsec) == (3, 1)
    assert source.asked.count("COLUMNS") == 1
    assert len(source.asked) == 3


@pytest.mark.parametrize("failure", [LookupError("driver"), OSError("socket"), TimeoutError()])
async def test_driver_failures_are_unavailable(failure: BaseException) -> None:
    with pytest.raises(HistoryUnavailable, match="not reachable"):
        await Canned(failure).query(HistoryQuery(limit=1))


class WithRecordings(Canned):
    """A table with FreePBX's recordingfile; the call is found by its linkedid."""

    def __init__(self) -> None:
        super().__init__()
        self.config = HistoryConfig(recording_column="recordingfile")

    async def fetch(self, sql: str, args: Sequence[object]) -> Sequence[Any]:
        self.asked.append(sql)
        if sql == "COLUMNS":
            return [("calldate",), ("uniqueid",), ("linkedid",), ("recordingfile",)]
        if '"linkedid" = $1' in sql:
            return [("a.wav", datetime(2026, 11, 27, 9, 0))]
        return []


async def test_a_recording_is_found_by_uniqueid_then_linkedid() -> None:
    source = WithRecordings()
    assert await source.recording("1.5") == ("a.wav", 1795770000)
    asked = source.asked[1:]
    assert [('"uniqueid" = $1' in sql, '"linkedid" = $1' in sql) for sql in asked] == [
        (True, False),
        (False, True),
    ]
    assert asked[0] == (
        'SELECT "recordingfile", "calldate" FROM "cdr" WHERE "uniqueid" = $1'
        ' AND "recordingfile" <> \'\' ORDER BY "calldate" DESC LIMIT 1'
    )
