"""The gateway end to end: real loopback sockets, the simulator as Asterisk."""

from __future__ import annotations

import asyncio
import time

from gateway.app import GATEWAY
from gateway.simulator import Simulator
from tests.support.harness import COOKIE, MakeClient, login, rawman, start, until


async def test_permission_denied_before_login_and_a_fresh_cookie(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    response = await client.get("/asterisk/rawman?action=ping")
    assert await response.text() == "Response: Error\r\nMessage: Permission denied\r\n\r\n"
    assert COOKIE.match(response.headers["Set-Cookie"])
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache, no-store"


async def test_login_issues_a_new_id_and_ping_reaches_asterisk(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    first = await client.get("/asterisk/rawman?action=challenge&authtype=md5")
    before = COOKIE.match(first.headers["Set-Cookie"])
    assert before is not None
    session = await login(client)
    assert session != before.group(1)
    body = await rawman(client, session, "action=ping&actionid=p1")
    assert body.startswith("Response: Success\r\nActionID: p1\r\nPing: Pong\r\n")
    assert simulator.received[-1].get("Action") == "ping"
    assert "|p1" in (simulator.received[-1].get("ActionID") or "")


async def test_crlf_anywhere_is_refused_and_nothing_reaches_ami(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    sent = len(simulator.received)
    for query in (
        "action=userevent&userevent=x&header1=x%0D%0AAction:%20Logoff",
        "action=ping&actionid=x%0D%0AAction:%20Ping",
        "action=Ping%0D%0AActionID:%20inj",
        "action=userevent&userevent=x&na%0Ame=1",
        "action=userevent&userevent=x&nul=%00",
        "action=userevent&userevent=x&co:lon=1",
    ):
        body = await rawman(client, session, query)
        assert body == "Response: Error\r\nMessage: Invalid character in request\r\n\r\n", query
    body = await rawman(client, session, "action=userevent&userevent=x&h=a%0Db&actionid=ok1")
    assert (
        body == "Response: Error\r\nActionID: ok1\r\nMessage: Invalid character in request\r\n\r\n"
    )
    assert len(simulator.received) == sent
    assert (await rawman(client, session, "action=ping")).startswith("Response: Success")


async def test_a_line_too_long_for_ami_is_refused(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    sent = len(simulator.received)
    body = await rawman(client, session, "action=userevent&userevent=x&big=" + "a" * 1100)
    assert body == "Response: Error\r\nMessage: Request too large for AMI\r\n\r\n"
    many = "&".join(f"h{i}=1" for i in range(130))
    body = await rawman(client, session, "action=userevent&userevent=x&" + many)
    assert body == "Response: Error\r\nMessage: Request too large for AMI\r\n\r\n"
    assert len(simulator.received) == sent


async def test_reader_may_not_originate_and_nothing_is_sent(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client, "reader")
    sent = len(simulator.received)
    body = await rawman(client, session, "action=originate&channel=Local/100@test&app=Wait")
    assert body == "Response: Error\r\nMessage: Permission denied\r\n\r\n"
    assert len(simulator.received) == sent
    assert (await rawman(client, session, "action=ping")).startswith("Response: Success")


async def test_failed_login_is_delayed_without_blocking_others(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, limits={"login_fail_delay": 1.0})
    session = await login(client)
    failing = asyncio.create_task(rawman(client, None, "action=login&username=admin&secret=no"))
    await asyncio.sleep(0.05)
    began = time.monotonic()
    assert (await rawman(client, session, "action=ping")).startswith("Response: Success")
    assert time.monotonic() - began < 0.5  # generous: the failing login takes 1 s
    assert await failing == "Response: Error\r\nMessage: Authentication failed\r\n\r\n"


async def test_waitevent_timeout_zero_and_kicked_poll_is_well_formed(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    await rawman(client, session, "action=waitevent&timeout=0")  # drain SuccessfulAuth
    older = asyncio.create_task(rawman(client, session, "action=waitevent&timeout=10&actionid=A"))
    waiting = client.app[GATEWAY].sessions
    await until(lambda: waiting.waiting_count == 1)  # A is parked before B comes
    newer = asyncio.create_task(rawman(client, session, "action=waitevent&timeout=1&actionid=B"))
    assert await asyncio.wait_for(older, 2) == (
        "Response: Success\r\nActionID: A\r\nMessage: Waiting for Event completed.\r\n\r\n"
        "Event: WaitEventComplete\r\nActionID: A\r\n\r\n"
    )
    assert (await newer).endswith("Event: WaitEventComplete\r\nActionID: B\r\n\r\n")


async def test_events_action_and_login_events_on(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    body = await rawman(client, None, "action=login&username=admin&secret=admin-secret&events=on")
    assert body.startswith("Response: Success\r\nMessage: Authentication accepted\r\n\r\n")
    assert "Event: FullyBooted\r\nPrivilege: system,all\r\n" in body
    session = await login(client)
    assert await rawman(client, session, "action=events&eventmask=off") == (
        "Response: Success\r\nEvents: Off\r\n\r\n"
    )
    assert await rawman(client, session, "action=events&eventmask=call") == (
        "Response: Success\r\nEvents: On\r\n\r\n"
    )


async def test_health_and_readiness(simulator: Simulator, aiohttp_client: MakeClient) -> None:
    client = await start(simulator, aiohttp_client)
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200
    await simulator.stop()
    async with asyncio.timeout(2):
        while (await client.get("/readyz")).status != 503:
            await asyncio.sleep(0.02)


async def test_unknown_paths_and_methods(simulator: Simulator, aiohttp_client: MakeClient) -> None:
    client = await start(simulator, aiohttp_client)
    for path in ("/asterisk/rawmanx", "/asterisk//rawman", "/asterisk/rawman/extra", "/other"):
        response = await client.get(path + "?action=ping")
        assert response.status == 404, path
        assert "Set-Cookie" not in response.headers
    for path in ("/ASTERISK/rawman", "/asterisk/RAWMAN/"):
        assert (await client.get(path + "?action=ping")).status == 200
    assert (await client.put("/asterisk/rawman")).status == 501


async def test_gateway_state_is_reachable_by_app_key(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    gateway = client.app[GATEWAY]
    assert gateway.ami.ready
    assert gateway.accounts.permissions.authoritative  # learnt from ListCommands
