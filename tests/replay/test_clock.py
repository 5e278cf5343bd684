"""The replay's simulated time (tests/support/replay_clock.py): no call timer
overtakes a request, however late the request goes out."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Final

import aiohttp

from tests.support.replay_clock import SimTime
from tests.support.replay_http import Running, running_gateway

SCALE: Final = 0.25
STALL: Final = 0.6
"""Real seconds the loop is blocked, as on a loaded machine: 2.4 simulated
seconds, past the end of the 1 s call on a clock that followed real time."""
ORIGINATE: Final = "action=originate&channel=Local/100@test&application=Wait&data=1&async=true"


class Client:
    """One HTTP session that sends each request when its simulated time has come."""

    def __init__(self, running: Running, http: aiohttp.ClientSession, time: SimTime) -> None:
        self.base = f"http://127.0.0.1:{running.port}/asterisk/rawman?"
        self.http = http
        self.time = time

    async def _get(self, query: str) -> str:
        async with self.http.get(self.base + query) as response:
            return await response.text()

    async def send(self, number: int, t_sent: float, query: str) -> str:
        await self.time.ready_for(t_sent)
        answer = asyncio.ensure_future(self._get(query))
        await self.time.taken(number, answer, None, None)
        return await answer


@contextlib.asynccontextmanager
async def client(steps: list[tuple[int, float]]) -> AsyncIterator[Client]:
    async with (
        running_gateway(SCALE) as running,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        yield Client(running, http, SimTime(running.clock, running.gateway, steps, SCALE))


async def test_a_late_waitevent_still_sees_the_call_as_the_capture_did() -> None:
    async with client([(1, 0.0), (2, 0.001), (3, 0.002), (4, 0.703)]) as c:
        await c.send(1, 0.0, "action=login&username=admin&secret=admin-secret")
        await c.send(2, 0.001, "action=waitevent&timeout=0")
        assert "Response: Success" in await c.send(3, 0.002, ORIGINATE + "&actionid=o1")
        time.sleep(STALL)  # noqa: ASYNC251 -- the loaded machine, on purpose
        events = await c.send(4, 0.703, "action=waitevent&timeout=2")
        assert "Application: Wait\r\nAppData: 2\r\n" in events  # ;2 waits, 0.5 s after Answer
        assert "Event: Hangup\r\n" not in events
        assert c.time.clock.elapsed == 0.703
        await c.time.advance(5.0)  # nothing is left to send: time may run on
        assert "Event: Hangup\r\n" in await c._get("action=waitevent&timeout=0")


async def test_time_waits_for_an_earlier_request_to_be_taken() -> None:
    async with client([(1, 0.0), (2, 1.0)]) as c:
        await c.time.advance(3.0)
        assert c.time.clock.elapsed == 0.0  # request 1 is not taken yet
        later = asyncio.ensure_future(c.time.ready_for(1.0))
        await asyncio.sleep(0.05)
        assert not later.done()
        await c.send(1, 0.0, "action=ping")
        await later
        assert c.time.clock.elapsed == 1.0
