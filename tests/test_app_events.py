"""Session-local event controls end to end: Filter, Events, the opt-in cursor."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from aiohttp import ClientSession, DummyCookieJar
from yarl import URL

from gateway.app import GATEWAY
from gateway.simulator import Simulator
from tests.support.harness import (
    COOKIE,
    MakeClient,
    basic,
    login,
    new_app,
    rawman,
    served,
    start,
    until,
    user_event,
)

CURSOR = re.compile(r"^Cursor: (\d+)\r$", re.MULTILINE)


async def test_filter_action_limits_this_session_only(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    filtered, plain = await login(client), await login(client)
    for session in (filtered, plain):
        await rawman(client, session, "action=waitevent&timeout=0")
    body = await rawman(
        client, filtered, "action=filter&operation=add&filter=UserEvent:%20Keep&actionid=f1"
    )
    assert body == "Response: Success\r\nActionID: f1\r\nMessage: Success\r\n\r\n"
    simulator.emit(user_event("Drop"))
    simulator.emit(user_event("Keep"))
    only = await rawman(client, filtered, "action=waitevent&timeout=2")
    assert "UserEvent: Keep" in only
    assert "UserEvent: Drop" not in only
    both = await rawman(client, plain, "action=waitevent&timeout=2")
    assert "UserEvent: Drop" in both
    bad = await rawman(client, filtered, "action=filter&operation=remove&filter=x")
    assert bad == "Response: Error\r\nMessage: Unknown operation\r\n\r\n"
    empty = await rawman(client, filtered, "action=filter&operation=add")
    assert empty == "Response: Error\r\nMessage: No filter specified\r\n\r\n"


async def test_filter_needs_the_system_write_class(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    reader = await login(client, "reader")
    body = await rawman(client, reader, "action=filter&operation=add&filter=Event:%20X")
    assert body == "Response: Error\r\nMessage: Permission denied\r\n\r\n"


async def test_events_mask_and_bad_masks(simulator: Simulator, aiohttp_client: MakeClient) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    await rawman(client, session, "action=waitevent&timeout=0")
    assert (await rawman(client, session, "action=events&eventmask=call")).endswith("On\r\n\r\n")
    simulator.emit(user_event("Hidden"))
    simulator.emit(user_event("Shown", "call,all"))
    body = await rawman(client, session, "action=waitevent&timeout=2")
    assert "Shown" in body
    assert "Hidden" not in body
    bogus = await rawman(client, session, "action=events&eventmask=bogus")
    assert bogus == "Response: Success\r\nEvents: Off\r\n\r\n"  # get_perm: no class
    bad = await rawman(client, session, "action=events&eventmask=")
    assert bad == "Response: Error\r\nMessage: Invalid event mask\r\n\r\n"
    assert (await rawman(client, session, "action=challenge")) == (
        "Response: Error\r\nMessage: Must specify AuthType\r\n\r\n"
    )


async def test_cursor_resumes_after_a_lost_response(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    first = await rawman(client, session, "action=waitevent&timeout=0&cursor=")
    cursor = first.rsplit("Cursor: ", 1)[1].split("\r\n")[0]
    simulator.emit(user_event("One"))
    lost = await rawman(client, session, "action=waitevent&timeout=2&cursor=")
    assert "UserEvent: One" in lost
    again = await rawman(client, session, f"action=waitevent&timeout=2&cursor={cursor}")
    assert "UserEvent: One" in again  # the response was "lost": ask again from before it
    assert "\r\nCursor: " in again
    bad = await rawman(client, session, "action=waitevent&timeout=0&cursor=abc")
    assert bad == "Response: Error\r\nMessage: Invalid cursor\r\n\r\n"


async def test_a_tiny_ring_reports_lost_events_in_cursor_mode(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, events={"ring_size": 2})
    session = await login(client)
    await rawman(client, session, "action=waitevent&timeout=0&cursor=")
    for i in range(5):
        simulator.emit(user_event(f"E{i}"))
    body = ""
    for _ in range(20):  # the events arrive over the socket; wait until all five are in
        body = await rawman(client, session, "action=waitevent&timeout=0&cursor=0")
        if "E4" in body:
            break
    assert "Event: GatewayEventsLost\r\nPrivilege: system,all\r\nLost: " in body
    assert "\r\nReason: Overrun\r\n" in body


async def raw_poll(url: URL, session: str) -> asyncio.StreamWriter:
    """Send a waitevent on a socket of our own, and read nothing back."""
    _, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        f"GET {url.raw_path_qs} HTTP/1.1\r\nHost: {url.host}\r\n"
        f'Cookie: mansession_id="{session}"\r\n\r\n'.encode()
    )
    await writer.drain()
    return writer


async def plain_login(http: ClientSession, rawman_url: URL) -> str:
    query = {"action": "login", "username": "admin", "secret": "admin-secret"}
    async with http.get(rawman_url.with_query(query)) as response:
        match = COOKIE.match(response.headers["Set-Cookie"])
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize("drop", ["disconnect_mid_poll", "discard_the_response"])
async def test_a_dropped_poll_is_resent_exactly_once_by_cursor(
    simulator: Simulator, drop: str
) -> None:
    app = new_app(simulator.port)
    gateway = app[GATEWAY]
    async with served(app) as base, ClientSession(cookie_jar=DummyCookieJar()) as http:
        rawman_url = URL(base) / "asterisk" / "rawman"

        async def poll(session: str, query: str) -> str:
            cookie = {"Cookie": f'mansession_id="{session}"'}
            async with http.get(f"{rawman_url}?{query}", headers=cookie) as response:
                return await response.text()

        async with http.get(f"{rawman_url}?action=login&username=admin&secret=admin-secret") as r:
            match = COOKIE.match(r.headers["Set-Cookie"])
        assert match is not None
        session = match.group(1)
        confirmed = int(
            CURSOR.findall(await poll(session, "action=waitevent&timeout=0&cursor="))[0]
        )
        lost = await raw_poll(rawman_url.with_query("action=waitevent&timeout=10&cursor="), session)
        await until(lambda: gateway.sessions.waiting_count == 1)
        if drop == "disconnect_mid_poll":
            lost.close()  # gone before any event: the poll is still held
            await asyncio.sleep(0.1)
            assert gateway.sessions.waiting_count == 1
        for name in ("E1", "E2", "E3"):
            simulator.emit(user_event(name))
        await until(lambda: gateway.sessions.waiting_count == 0)
        lost.close()  # the response, if it came, is never read
        held = gateway.sessions.get(session, time.monotonic())
        assert held is not None
        assert held.cursor >= confirmed + 3  # the dropped response took the events with it
        again = await poll(session, f"action=waitevent&timeout=2&cursor={confirmed}")
        assert [again.count(f"UserEvent: {name}\r\n") for name in ("E1", "E2", "E3")] == [1, 1, 1]
        assert again.index("E1") < again.index("E2") < again.index("E3")
        resumed = int(CURSOR.findall(again)[0])
        assert resumed == held.cursor
        after = await poll(session, f"action=waitevent&timeout=0.2&cursor={resumed}")
        assert "UserEvent:" not in after
        assert CURSOR.findall(after) == [str(resumed)]


async def test_an_async_originate_result_reaches_every_call_reader_with_its_action_id(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    """Issue 13, item 5: a program originates over HTTP Basic (no session)
    while a polling session of another user tracks calls; Asterisk sends the
    OriginateResponse to every session that may read call, and so does the
    gateway, with the originator's own ActionID.  A user whose
    ``originate_response = "owner"`` gets only its own sessions' results."""
    narrow = {"secret": "narrow-secret", "read": "call", "originate_response": "owner"}
    client = await start(simulator, aiohttp_client, users={"narrow": narrow})
    watcher, narrowed = await login(client, "reader"), await login(client, "narrow")
    for session in (watcher, narrowed):
        await rawman(client, session, "action=waitevent&timeout=0")
    client.session.cookie_jar.clear()
    originate = (
        "/asterisk/rawman?action=originate&channel=Local/100@test&application=Wait"
        "&data=1&async=true&actionid=from-basic"
    )
    response = await client.get(originate, headers=basic("caller"))
    assert "Originate successfully queued" in await response.text()
    seen = ""
    async with asyncio.timeout(10):
        while "Event: OriginateResponse" not in seen:
            seen += await rawman(client, watcher, "action=waitevent&timeout=2")
    result = seen[seen.index("Event: OriginateResponse") :].split("\r\n\r\n")[0]
    assert "ActionID: from-basic\r\n" in result
    assert "Response: Success" in result
    others = await rawman(client, narrowed, "action=waitevent&timeout=0")
    assert "Newchannel" in others  # the call's events, but not another session's result
    assert "OriginateResponse" not in others


async def test_a_cursor_from_before_a_restart_is_told_and_gets_the_new_ring(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    """Two boots (and two instances behind nginx) number apart: a cursor of
    one is never read as a place in the other's ring."""
    first = await start(simulator, aiohttp_client)
    session = await login(first)
    await rawman(first, session, "action=waitevent&timeout=0&cursor=")
    simulator.emit(user_event("Before"))
    body = await rawman(first, session, "action=waitevent&timeout=2&cursor=")
    old_cursor = int(CURSOR.findall(body)[0])
    second = await start(simulator, aiohttp_client)  # the restarted gateway (or another instance)
    ring = second.app[GATEWAY].log
    assert ring.origin > old_cursor  # it booted later: its numbers are all above the old ones
    renewed = await login(second)
    simulator.emit(user_event("After"))
    await until(lambda: any(e.name == "userevent" for e in ring.since(ring.origin)[1]))
    body = await rawman(second, renewed, f"action=waitevent&timeout=5&cursor={old_cursor}")
    assert body.index("Event: GatewayEventsLost\r\nPrivilege: system,all\r\nLost: 0\r\n") < (
        body.index("UserEvent: After")
    )
    assert "Reason: Restart\r\n" in body
    assert "UserEvent: Before" not in body  # the old ring's events went with it
    again = await rawman(second, renewed, f"action=waitevent&timeout=0&cursor={old_cursor}")
    assert "Reason: Restart" in again  # told again for the same cursor: the answer may be lost
    resumed = CURSOR.findall(body)[0]
    after = await rawman(second, renewed, f"action=waitevent&timeout=0&cursor={resumed}")
    assert "GatewayEventsLost" not in after
    assert CURSOR.findall(after) == [resumed]
