"""Drain (SIGTERM) and reload (SIGHUP) on a real app over loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from gateway.app import AJAM, GATEWAY
from gateway.config import Config
from gateway.lifecycle import begin_drain, drain, reload_config
from gateway.simulator import Simulator
from tests.support.harness import (
    TEST_USERS,
    Client,
    MakeClient,
    basic,
    gateway_config,
    login,
    rawman,
    start,
    until,
)

EMPTY_POLL = (
    "Response: Success\r\nMessage: Waiting for Event completed.\r\n\r\n"
    "Event: WaitEventComplete\r\n\r\n"
)
DENIED = "Response: Error\r\nMessage: Permission denied\r\n\r\n"


async def held_poll(client: Client, session: str) -> asyncio.Task[str]:
    """A waitevent that the gateway is holding (the login's events drained first)."""
    await rawman(client, session, "action=waitevent&timeout=0")
    poll = asyncio.create_task(rawman(client, session, "action=waitevent&timeout=20"))
    sessions = client.app[GATEWAY].sessions
    await until(lambda: sessions.waiting_count)
    return poll


async def test_drain_answers_polls_ends_sessions_and_refuses_logins(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    poll = await held_poll(client, session)
    began = time.monotonic()
    assert await drain(client.app[GATEWAY], 30)
    assert time.monotonic() - began < 5  # nothing in flight: no wait for the 30 s
    assert await asyncio.wait_for(poll, 2) == EMPTY_POLL
    assert await rawman(client, session, "action=ping") == DENIED
    refused = await client.get(
        "/asterisk/rawman", params={"action": "login", "username": "admin", "secret": "x"}
    )
    assert refused.status == 503  # nginx: proxy_next_upstream http_503
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["Connection"] == "close"  # no keep-alive into a closing instance
    assert await refused.text() == "Response: Error\r\nMessage: Gateway is shutting down\r\n\r\n"
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert "draining" in await ready.text()


async def test_a_one_shot_basic_request_is_refused_while_draining(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    assert await drain(client.app[GATEWAY], 30)
    refused = await client.get("/asterisk/rawman?action=ping", headers=basic("admin"))
    assert refused.status == 503  # a Basic request is a login: nginx retries elsewhere
    assert "Gateway is shutting down" in await refused.text()
    assert "Set-Cookie" not in refused.headers


async def test_drain_waits_for_an_action_in_flight_at_most_drain_time(
    aiohttp_client: MakeClient,
) -> None:
    silent = Simulator(answer_pings=False)  # a Ping that Asterisk never answers
    await silent.start()
    try:
        client = await start(silent, aiohttp_client)
        session = await login(client)
        ping = asyncio.create_task(rawman(client, session, "action=ping"))
        gateway = client.app[GATEWAY]
        await until(lambda: gateway.ami.pending)
        began = time.monotonic()
        assert not await drain(gateway, 0.3)
        assert 0.25 < time.monotonic() - began < 3
        assert not ping.done()  # the action's own timeout still runs
        finished = asyncio.create_task(drain(gateway, 30))
        await silent.stop()  # the link drops: the pending Ping fails at once
        assert await asyncio.wait_for(finished, 5)
        assert "Asterisk is not connected" in await asyncio.wait_for(ping, 5)
    finally:
        await silent.stop()


async def test_a_login_that_began_before_the_drain_is_refused(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, users={"slow": {"secret": "s"}})
    gateway = client.app[GATEWAY]
    accounts = gateway.accounts
    checked = accounts.check_login

    def check_then_drain(*args: Any, **kwargs: Any) -> Any:
        begin_drain(gateway)  # SIGTERM arrives while the secret is being checked
        return checked(*args, **kwargs)

    accounts.check_login = check_then_drain  # type: ignore[method-assign]
    response = await client.get(
        "/asterisk/rawman", params={"action": "login", "username": "slow", "secret": "s"}
    )
    assert response.status == 503
    assert len(gateway.sessions) == 0


def reloaded(simulator: Simulator, **sections: Any) -> Config:
    return gateway_config(simulator.port, **sections)


async def test_reload_keeps_sessions_ends_removed_users_and_applies_rights(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    admin = await login(client, "admin")
    reader = await login(client, "reader")
    poll = await held_poll(client, reader)
    users = {name: dict(user) for name, user in TEST_USERS.items()}
    users["admin"]["write"] = "none"
    new = reloaded(simulator, users=users)  # the harness merges tables: drop reader here
    new = dataclasses.replace(new, users={k: v for k, v in new.users.items() if k != "reader"})
    assert reload_config(client.app, new) == []
    assert await asyncio.wait_for(poll, 2) == EMPTY_POLL  # reader is gone
    assert await rawman(client, reader, "action=ping") == DENIED
    # admin keeps the session but lost the command right
    assert await rawman(client, admin, "action=command&command=core%20show%20version") == DENIED
    assert (await rawman(client, admin, "action=ping")).startswith("Response: Success")


async def test_reload_applies_limits_and_warns_about_restart_only_tables(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    new = reloaded(
        simulator,
        limits={"max_sessions": 3, "max_query": 100, "login_fail_delay": 0.2, "waitevent_max": 7},
        http={"prefix": "/other"},
    )
    warnings = reload_config(client.app, new)
    assert warnings == ["[http] changed: it takes effect only after a restart"]
    gateway = client.app[GATEWAY]
    assert gateway.sessions.max_sessions == 3
    assert gateway.gate.fail_delay == 0.2
    assert gateway.polls.waitevent_max == 7
    assert client.app[AJAM].settings.max_query == 100
    assert gateway.config.http.prefix == "/asterisk"  # the listener's prefix stays
    long_query = await client.get("/asterisk/rawman?action=ping&x=" + "y" * 200)
    assert long_query.status == 414


async def test_reload_applies_request_and_login_rates(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    limits = {"rate_per_address": 3, "rate_per_session": 5, "login_failures_per_address": 4}
    reload_config(client.app, reloaded(simulator, limits=limits))
    gateway = client.app[GATEWAY]
    assert gateway.rates.per_address.rate == 3
    assert gateway.rates.per_session.rate == 5
    assert gateway.login_guard.by_address.limit == 4
    session = await login(client)  # its secret check is one of the address's 3
    headers = {"Cookie": f'mansession_id="{session}"'}
    answers = [await client.get("/asterisk/rawman?action=ping", headers=headers) for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 429]  # the new per-address rate


async def test_reload_ends_a_session_whose_address_is_now_denied(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client, "caller")
    users = {name: dict(user) for name, user in TEST_USERS.items()}
    users["caller"]["permit"] = "192.0.2.0/24"
    reload_config(client.app, reloaded(simulator, users=users))
    assert await rawman(client, session, "action=ping") == DENIED
