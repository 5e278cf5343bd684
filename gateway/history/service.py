"""The call history as the gateway runs it: the configured backend, fed by
AMI events and asked for one client's calls.

With ``backend = "sqlite"`` the ``Recorder`` both records every ``Cdr``
event (a subscriber of the AMI event path) and answers lookups; otherwise a
``TableSource`` reads the PBX's own table.  No HTTP here: ``/history`` is
``gateway.http.history``.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from gateway.ami.message import Message
from gateway.errors import ConfigError, HistoryUnavailable
from gateway.history.query import HistoryQuery
from gateway.history.record import CdrRecord
from gateway.history.recorder import Recorder
from gateway.history.settings import HistoryConfig


class Backend(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def query(self, q: HistoryQuery) -> list[CdrRecord]: ...


class HistoryService:
    def __init__(self, settings: HistoryConfig) -> None:
        self.settings = settings
        self.recorder: Recorder | None = None
        self.backend: Backend | None = None
        if not settings.enabled:
            return
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
        try:
            async with asyncio.timeout(self.settings.query_timeout):
                return await self.backend.query(query)
        except TimeoutError:
            raise HistoryUnavailable("the lookup took longer than query_timeout") from None


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
