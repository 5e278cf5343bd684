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
