"""A PBX's own CDR table as a history backend: what MySQL and PostgreSQL share.

A subclass opens its driver's pool and fetches rows; the table's shape is
learnt at the first lookup (``layout = "auto"`` looks at its columns), and
any driver failure becomes a 503 (``HistoryUnavailable``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from typing import Any, ClassVar, TypeVar

from gateway.errors import HistoryUnavailable
from gateway.history.query import HistoryQuery
from gateway.history.record import CdrRecord
from gateway.history.settings import DatabaseConfig, HistoryConfig
from gateway.history.sqlplan import (
    Dialect,
    Shape,
    local_epoch,
    missing_column,
    plan,
    recording_plan,
    shape_of,
    to_record,
)

log = logging.getLogger("gateway.history")
T = TypeVar("T")


class TableSource:
    dialect: ClassVar[Dialect]
    errors: ClassVar[tuple[type[BaseException], ...]]
    columns_sql: ClassVar[str]
    """The table's column names from ``information_schema``; one parameter, the table."""

    def __init__(self, config: HistoryConfig, db: DatabaseConfig) -> None:
        self.config = config
        self.db = db
        self._pool: Any = None
        self._shape: Shape | None = None

    async def start(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def fetch(self, sql: str, args: Sequence[object]) -> Sequence[Any]:
        raise NotImplementedError

    async def query(self, q: HistoryQuery) -> list[CdrRecord]:
        return await self._guarded(self._query(q))

    async def recording(self, uniqueid: str) -> tuple[str, int | None] | None:
        """What ``[history] recording_column`` says of a call (by its uniqueid,
        else its linkedid): the recording's name and the call's start."""
        return await self._guarded(self._recording(uniqueid))

    async def _guarded(self, work: Awaitable[T]) -> T:
        # No timeout of its own: the service bounds every backend's lookup
        # by query_timeout, and its deadline is always the earlier one.
        failures: tuple[type[BaseException], ...] = (*self.errors, OSError, TimeoutError)
        try:
            return await work
        except failures as exc:
            log.warning("history: the CDR database failed: %s", exc)
            raise HistoryUnavailable("the CDR database is not reachable") from exc

    async def _shaped(self) -> Shape:
        if self._pool is None:
            raise HistoryUnavailable
        if self._shape is None:
            found = await self.fetch(self.columns_sql, (self.db.table,))
            self._shape = self._learn(found)
        return self._shape

    async def _query(self, q: HistoryQuery) -> list[CdrRecord]:
        shape = await self._shaped()
        sql, args = self.plan(q, shape)
        rows = await self.fetch(sql, args)
        extra, zone = shape.extra, self.config.pbx_timezone
        return [to_record(row, zone, extra) for row in rows]

    async def _recording(self, uniqueid: str) -> tuple[str, int | None] | None:
        shape, column = await self._shaped(), self.config.recording_column
        if not shape.has(column):
            missing = missing_column(column, "recording_column")
            log.error("history: %s", missing.message)
            raise missing
        for by in ("uniqueid", "linkedid"):
            if shape.has(by):
                sql = recording_plan(shape, self.dialect, self.db.table, column, by)
                rows = await self.fetch(sql, (uniqueid,))
                if rows:
                    return str(rows[0][0]), local_epoch(rows[0][1], self.config.pbx_timezone)
        return None

    def _learn(self, found: Sequence[Any]) -> Shape:
        """The table's shape, learnt at the first lookup; a configured column it
        lacks is a clear 503 (and a log line), asked again at the next lookup."""
        db, config = self.db, self.config
        try:
            return shape_of(found, db.table, db.layout, self.dialect, config.extra_columns)
        except HistoryUnavailable as exc:
            log.error("history: %s", exc.message)
            raise

    def plan(self, q: HistoryQuery, shape: Shape) -> tuple[str, list[object]]:
        config = self.config
        return plan(q, config.numbers, config.pbx_timezone, self.db.table, shape, self.dialect)
