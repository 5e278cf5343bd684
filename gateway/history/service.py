"""The call history as the gateway runs it: the configured backend, fed by
AMI events and asked for one client's calls.

With ``backend = "sqlite"`` the ``Recorder`` both records every ``Cdr``
event (a subscriber of the AMI event path) and answers lookups; otherwise a
``TableSource`` reads the PBX's own table.  No HTTP here: ``/history`` is
``gateway.http.history``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Protocol, TypeVar

from gateway.ami.message import Message
from gateway.errors import ConfigError, HistoryUnavailable
from gateway.history.query import HistoryQuery
from gateway.history.record import CdrRecord
from gateway.history.recorder import Recorder
from gateway.history.recordings import Recording, RecordingFinder
from gateway.history.settings import HistoryConfig
from gateway.history.tablesource import TableSource

T = TypeVar("T")


class Backend(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def query(self, q: HistoryQuery) -> list[CdrRecord]: ...


class HistoryService:
    def __init__(self, settings: HistoryConfig) -> None:
        self.settings = settings
        self.recorder: Recorder | None = None
        self.backend: Backend | None = None
        self.recordings: RecordingFinder | None = None
        if not settings.enabled:
            return
        if settings.recordings_dir:
            self.recordings = RecordingFinder(
                settings.recordings_dir, settings.pbx_timezone, settings.recordings_scan_limit
            )
        if settings.backend == "sqlite":
            self.recorder = self.backend = Recorder(settings)
        else:
            self.backend = database_source(settings)

    def on_event(self, message: Message) -> None:
        """An AMI event: a Cdr is recorded (only by the SQLite store)."""
        if self.recorder is not None:
            self.recorder.on_event(message)

    async def lookup(self, query: HistoryQuery) -> list[CdrRecord]:
        """The calls ``query`` asks for, within ``query_timeout``."""
        assert self.backend is not None  # asked only with a backend
        return await self._in_time(self.backend.query(query))

    async def _in_time(self, lookup: Awaitable[T]) -> T:
        """A database lookup, bounded by ``query_timeout`` (then 503)."""
        try:
            async with asyncio.timeout(self.settings.query_timeout):
                return await lookup
        except TimeoutError:
            raise HistoryUnavailable("the lookup took longer than query_timeout") from None

    async def recording(self, uniqueid: str) -> Recording | None:
        """A call's recording: by the CDR's ``recording_column`` (asked within
        ``query_timeout``), else by the uniqueid in its file name."""
        finder = self.recordings
        assert finder is not None  # asked only with recordings_dir
        if self.settings.recording_column:
            source = self.backend
            assert isinstance(source, TableSource)  # the config allows the column with one only
            named = await self._in_time(source.recording(uniqueid))
            return None if named is None else await asyncio.to_thread(finder.named, *named)
        return await asyncio.to_thread(finder.by_uniqueid, uniqueid)


def database_source(settings: HistoryConfig) -> Backend:
    """The PBX-table backend; its driver is an optional extra, imported only when used."""
    try:
        if settings.backend == "mysql":
            from gateway.history.mysql_source import MysqlSource

            return MysqlSource(settings)
        from gateway.history.pg_source import PgSource

        return PgSource(settings)
    except ImportError as exc:
        extra = settings.backend
        raise ConfigError(
            f"[history] backend: {extra!r} needs its driver: pip install 'ajam-gateway[{extra}]'"
        ) from exc
