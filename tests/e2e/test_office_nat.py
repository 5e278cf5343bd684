"""Issue 11, item 14: the default rate limits never refuse a well-behaved office.

25 dashboards behind one address (every client here is 127.0.0.1, as
behind one NAT) long-poll while events flow fast, so each poll returns at
once and polls again; one more client sends 40 UserEvents back to back.
Before the fix every request counted against ``rate_per_address`` (200/s):
the re-polls alone went over it, everyone got ``429`` and most UserEvents
were never sent.  A long poll paces itself; only what costs (an action sent
to Asterisk, a secret checked) is counted now.  The limits are the
defaults: no test override.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import Counter

from aiohttp import ClientSession, CookieJar

from gateway.config import LimitsConfig
from gateway.simulator import Simulator
from tests.support.harness import new_app, served

DASHBOARDS = 25
EVENTS = 40
NOISE_SECONDS = 3.0
DEFAULTS = {
    field.name: getattr(LimitsConfig(), field.name)
    for field in dataclasses.fields(LimitsConfig)
    if field.name.startswith("rate_")
}
"""The shipped rates, over the test harness's own (which lifts them)."""


async def login(http: ClientSession, url: str) -> None:
    params = {"action": "login", "username": "admin", "secret": "admin-secret"}
    async with http.get(url, params=params) as response:
        assert "Authentication accepted" in await response.text()


async def test_25_dashboards_and_a_sender_behind_one_address_see_no_429(
    simulator: Simulator,
) -> None:
    app = new_app(simulator.port, limits=DEFAULTS)
    statuses: Counter[int] = Counter()
    seen: list[set[str]] = [set() for _ in range(DASHBOARDS)]
    async with served(app) as base:
        url = f"{base}/asterisk/rawman"
        jars = [CookieJar(unsafe=True) for _ in range(DASHBOARDS + 1)]
        async with contextlib.AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(ClientSession(cookie_jar=j)) for j in jars]
            for http in clients:
                await login(http, url)
            done = asyncio.Event()

            async def dashboard(n: int) -> None:
                http = clients[n]
                while not done.is_set():
                    params = {"action": "waitevent", "timeout": "2"}
                    async with http.get(url, params=params) as response:
                        statuses[response.status] += 1
                        body = await response.text()
                    for line in body.split("\r\n"):
                        if line.lower().startswith("seq: "):
                            seen[n].add(line[5:])

            async def noise() -> None:
                loop = asyncio.get_running_loop()
                stop = loop.time() + NOISE_SECONDS
                while loop.time() < stop:
                    simulator.emit([("Event", "VarSet"), ("Privilege", "dialplan,all")])
                    await asyncio.sleep(0.001)

            async def sender() -> list[str]:
                answers = []
                for seq in range(EVENTS):
                    params = {"action": "userevent", "userevent": "Office", "seq": str(seq)}
                    async with clients[-1].get(url, params=params) as response:
                        statuses[response.status] += 1
                        answers.append(await response.text())
                    await asyncio.sleep(0.02)
                return answers

            polls = [asyncio.create_task(dashboard(n)) for n in range(DASHBOARDS)]
            noisy = asyncio.create_task(noise())
            try:
                answers = await sender()
                await noisy
                with contextlib.suppress(TimeoutError):  # the asserts below say what is missing
                    async with asyncio.timeout(10):
                        while any(len(s) < EVENTS for s in seen):
                            await asyncio.sleep(0.05)
            finally:
                done.set()
                for task in (*polls, noisy):
                    task.cancel()
                await asyncio.gather(*polls, noisy, return_exceptions=True)
    assert statuses[429] == 0, statuses
    assert all("Message: Event Sent" in a for a in answers)
    assert all(s == {str(n) for n in range(EVENTS)} for s in seen)
    assert sum(1 for m in simulator.received if m.name.lower() == "userevent") == EVENTS
    assert statuses[200] > 200 + EVENTS  # the polls did go over the old per-address rate
