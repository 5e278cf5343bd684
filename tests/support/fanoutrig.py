"""The push fan-out's parts for tests that drive it directly: a manual
clock, a log, a session store and a send budget around one ``Fanout``, and
real loopback connections for its streams."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from gateway.access.classes import ALL
from gateway.access.identity import Identity
from gateway.ami.message import Message
from gateway.core.events import EventLog
from gateway.core.sendbudget import SendBudget
from gateway.core.sessions import Session
from gateway.core.sessionstore import SessionStore
from gateway.push.fanout import Fanout
from gateway.push.settings import PushSettings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Parts:
    def __init__(self, **settings: object) -> None:
        self.log = EventLog(1000)
        self.sessions = SessionStore()
        self.budget = SendBudget(1 << 20)
        self.clock = Clock()
        self.fanout = Fanout(
            log=self.log,
            sessions=self.sessions,
            budget=self.budget,
            settings=PushSettings(**settings),  # type: ignore[arg-type]
            clock=self.clock,
        )

    def session(self) -> Session:
        session = self.sessions.create("127.0.0.1", 0.0, self.log.last_seq)
        session.log_in(Identity("admin", ALL, ALL))
        return session

    def emit(self, name: str, pad: str = "") -> None:
        self.log.append(Message.of(("Event", name), ("Privilege", "user,all"), ("Pad", pad)))


@contextlib.asynccontextmanager
async def connection() -> AsyncIterator[tuple[asyncio.Transport, asyncio.StreamReader]]:
    """A server-side transport and the client's reader, on loopback."""
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[asyncio.Transport] = loop.create_future()

    class Accept(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            accepted.set_result(transport)

    server = await loop.create_server(Accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    transport = await accepted
    try:
        yield transport, reader
    finally:
        transport.close()
        writer.close()
        server.close()
        await server.wait_closed()


async def read_until(reader: asyncio.StreamReader, end: bytes) -> bytes:
    data = b""
    async with asyncio.timeout(5):
        while end not in data:
            data += await reader.read(4096)
    return data
