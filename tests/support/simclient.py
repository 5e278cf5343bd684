"""A small AMI test client for the simulator tests: real socket, parsed messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gateway.ami.message import Message
from gateway.simulator import DEFAULT_USERS, Simulator
from gateway.simulator.channels import Fields, SimClock
from gateway.simulator.pbx import Pbx
from tests.support.amimask import parse_stream
from tests.support.harness import until

WAIT = 5.0
REPLAY_SCALE = 0.1
"""The simulator's replays: simulated seconds run ten times faster than the captures'."""
"""Generous bound on any single wait: the simulator answers in milliseconds."""


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.messages: list[Message] = []
        """Parsed and not yet taken by ``until``."""
        self.before: list[Message] = []
        """What came before the message ``until`` found last."""
        self._buffer = b""

    def send(self, *lines: str) -> None:
        self.writer.write("".join(f"{line}\r\n" for line in lines).encode() + b"\r\n")

    async def until(self, value: str) -> Message:
        """The first untaken message that has ``value`` as one of its values."""
        async with asyncio.timeout(WAIT):
            while True:
                for i, message in enumerate(self.messages):
                    if value in (v for _, v in message):
                        self.before = self.messages[:i]
                        del self.messages[: i + 1]
                        return message
                chunk = await self.reader.read(65536)
                if not chunk:  # read() at EOF returns at once: never spin on it
                    raise AssertionError(f"the connection closed before {value!r} came")
                self._buffer += chunk
                head, sep, rest = self._buffer.rpartition(b"\r\n\r\n")
                if sep:
                    self.messages += parse_stream(head + sep, banner=False)
                    self._buffer = rest

    async def closed(self) -> bool:
        """True once the simulator hung up (EOF or reset); closes this side too."""
        try:
            async with asyncio.timeout(WAIT):
                await self.reader.read()
        except ConnectionResetError:
            return True
        finally:
            self.writer.close()
        return self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


async def connect(sim: Simulator, user: str | None = "admin") -> Client:
    """A connection past the banner, logged in as ``user`` unless None."""
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    async with asyncio.timeout(WAIT):
        assert await reader.readline() == b"Asterisk Call Manager/11.0.0\r\n"
    client = Client(reader, writer)
    if user is not None:
        client.send("Action: Login", f"Username: {user}", f"Secret: {DEFAULT_USERS[user].secret}")
        await client.until("Authentication accepted")
    return client


@asynccontextmanager
async def running(**options: Any) -> AsyncIterator[Simulator]:
    """A started simulator, stopped afterwards."""
    sim = Simulator(**options)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


class Recorder(list[Message]):
    """An emit callback for a bare Pbx: keeps every event as a message."""

    def __call__(self, fields: Fields) -> None:
        self.append(Message(fields))

    def names(self) -> list[str]:
        return [m.name for m in self]

    def of(self, name: str) -> list[Message]:
        return [m for m in self if m.name == name]


@asynccontextmanager
async def running_pbx(time_scale: float) -> AsyncIterator[tuple[Pbx, Recorder]]:
    recorder = Recorder()
    pbx = Pbx(SimClock(time_scale), recorder)
    try:
        yield pbx, recorder
    finally:
        await pbx.close()


async def until_idle(pbx: Pbx) -> None:
    """Until every call has ended."""
    await until(lambda: not pbx.channels, WAIT, interval=0.001)
