"""What issue 2 must show: fan-out without loss, and an AMI crash survived."""

from __future__ import annotations

import asyncio
import re
import time

from gateway.app import GATEWAY
from gateway.simulator import Simulator
from tests.support.harness import COOKIE, Client, MakeClient, login, rawman, start, until

SEQ = re.compile(r"^Seq: (\d+)\r$", re.MULTILINE)


async def collect(client: Client, session: str, want: int, deadline: float) -> list[int]:
    """Long-poll until ``want`` Bench events arrived; returns their Seq values."""
    seen: list[int] = []
    while len(seen) < want and time.monotonic() < deadline:
        body = await rawman(client, session, "action=waitevent&timeout=5")
        seen += [int(s) for s in SEQ.findall(body)]
    return seen


async def test_fifty_long_polls_get_every_event_they_may_read_in_order(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    admins = [await login(client) for _ in range(40)]
    readers = [await login(client, "reader") for _ in range(10)]
    for session in admins + readers:  # the first poll returns SuccessfulAuth events
        await rawman(client, session, "action=waitevent&timeout=0")
    deadline = time.monotonic() + 20
    polls = [asyncio.create_task(collect(client, s, 100, deadline)) for s in admins]
    reader_polls = [asyncio.create_task(collect(client, s, 50, deadline)) for s in readers]
    await asyncio.sleep(0.2)
    for seq in range(100):
        # user-class events reach admins only; call-class events reach everyone
        privilege = "call,all" if seq % 2 else "user,all"
        simulator.emit([("Event", "UserEvent"), ("Privilege", privilege), ("Seq", str(seq))])
        if seq % 10 == 0:
            await asyncio.sleep(0.01)
    for result in await asyncio.gather(*polls):
        assert result == list(range(100))
    for result in await asyncio.gather(*reader_polls):
        assert result == list(range(1, 100, 2))


async def test_ami_killed_mid_traffic_then_back_with_the_same_cookie(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, ami={"action_timeout": 30})
    session = await login(client)
    await rawman(client, session, "action=waitevent&timeout=0")
    poll = asyncio.create_task(rawman(client, session, "action=waitevent&timeout=20"))
    # A Ping that Asterisk never answers is in flight when Asterisk dies.
    simulator.answer_pings = False
    inflight = asyncio.create_task(rawman(client, session, "action=ping"))
    await asyncio.sleep(0.3)
    began = time.monotonic()
    await simulator.stop()
    assert await asyncio.wait_for(inflight, 2) == (
        "Response: Error\r\nMessage: Asterisk is not connected\r\n\r\n"
    )
    assert time.monotonic() - began < 2
    down = await asyncio.wait_for(poll, 2)
    assert "Event: GatewayAMIDown\r\nPrivilege: system,all\r\nReason: " in down
    body = await rawman(client, session, "action=ping")
    assert body == "Response: Error\r\nMessage: Asterisk is not connected\r\n\r\n"
    simulator.answer_pings = True
    await simulator.start()
    up = await rawman(client, session, "action=waitevent&timeout=5")
    assert "Event: GatewayAMIUp\r\nPrivilege: system,all\r\n" in up
    async with asyncio.timeout(5):
        while not (await rawman(client, session, "action=ping")).startswith("Response: Success"):
            await asyncio.sleep(0.05)


async def follow(client: Client, session: str, until_text: str) -> tuple[str, set[str]]:
    """Long-poll until ``until_text`` arrives; every body, and every cookie given back."""
    text, cookies = "", set()
    while until_text not in text:
        client.session.cookie_jar.clear()
        response = await client.get(
            "/asterisk/rawman?action=waitevent&timeout=5",
            headers={"Cookie": f'mansession_id="{session}"'},
        )
        match = COOKIE.match(response.headers["Set-Cookie"])
        assert match is not None
        cookies.add(match.group(1))
        text += await response.text()
    return text, cookies


async def test_twenty_polling_sessions_ride_out_an_ami_restart(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    gateway = client.app[GATEWAY]
    sessions = [await login(client) for _ in range(20)]
    for session in sessions:
        await rawman(client, session, "action=waitevent&timeout=0")
    polls = [asyncio.create_task(follow(client, s, "UserEvent: After\r\n")) for s in sessions]
    await until(lambda: gateway.sessions.waiting_count == 20)
    await simulator.shutdown(restart=True)  # core restart now: Shutdown, then the socket closes
    await until(lambda: not gateway.ami.ready)
    await simulator.start()
    await until(lambda: gateway.ami.ready)
    simulator.emit([("Event", "UserEvent"), ("Privilege", "user,all"), ("UserEvent", "After")])
    async with asyncio.timeout(20):
        results = await asyncio.gather(*polls)
    for session, (text, cookies) in zip(sessions, results, strict=True):
        assert cookies == {session}
        marks = ("Event: Shutdown\r\n", "Event: GatewayAMIDown\r\n", "Event: GatewayAMIUp\r\n")
        positions = [text.find(mark) for mark in (*marks, "UserEvent: After\r\n")]
        assert -1 not in positions, text
        assert positions == sorted(positions), text
        assert text.count("Event: GatewayAMIDown\r\n") == 1
    for session in sessions:
        assert (await rawman(client, session, "action=ping")).startswith("Response: Success")
