"""The gateway and a fake Asterisk on an event loop in a background thread,
so that hypothesis can drive plain blocking sockets against them (the
injection properties: tests/e2e/test_injection_property.py for AJAM,
tests/e2e/test_ami_injection_property.py for the AMI door).  The fake
records every byte it receives and answers ListCommands as the captured
Asterisk 22 does."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator, Mapping
from typing import Any, TypeVar

from aiohttp import web

from gateway.ami.message import Message
from gateway.app import GATEWAY
from tests.support.fakeami import FakeAmi, Peer
from tests.support.fixturedata import listcommands_response
from tests.support.harness import new_app, wait_ready

T = TypeVar("T")
SKIPPED = frozenset({"Response", "ActionID"})


def captured_listcommands(peer: Peer, action: Message) -> None:
    """Asterisk 22's own list: the gateway learns the 100 captured actions."""
    fields = listcommands_response().fields
    peer.reply(action, "Success", *((k, v) for k, v in fields if k not in SKIPPED))


class Rig:
    """The gateway and a fake AMI on a loop in a thread; blocking HTTP to it."""

    def __init__(self, **sections: Mapping[str, Any]) -> None:
        self.sections = sections
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.fake = FakeAmi(secret="admin-secret", on={"listcommands": captured_listcommands})
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.ami_door_port = 0

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    async def _start(self) -> None:
        ami_port = await self.fake.start()
        sections = {"ami": {"ping_interval": 3600}, "limits": {"waitevent_max": 0}}
        app = new_app(ami_port, **(sections | self.sections))
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]
        await wait_ready(app)
        door = app[GATEWAY].ami_door
        self.ami_door_port = door.port if door is not None else 0

    async def _stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        await self.fake.stop()

    async def _raw_length(self) -> int:
        return len(self.fake.raw)

    async def _raw_since(self, start: int) -> bytes:
        await asyncio.sleep(0)  # let a reader that is mid-read finish
        return bytes(self.fake.raw[start:])

    def upstream_length(self) -> int:
        """Bytes the fake Asterisk has received so far."""
        return self.run(self._raw_length())

    def upstream_since(self, start: int) -> bytes:
        """Bytes the fake Asterisk received after ``start``."""
        return self.run(self._raw_since(start))


@contextlib.contextmanager
def rig(**sections: Mapping[str, Any]) -> Iterator[Rig]:
    running = Rig(**sections)
    running.thread.start()
    try:
        running.run(running._start())
        yield running
    finally:
        with contextlib.suppress(Exception):
            running.run(running._stop())
        running.loop.call_soon_threadsafe(running.loop.stop)
        running.thread.join(timeout=10)
        running.loop.close()
