"""Limits and login defence end to end: the gateway on loopback, the simulator
as Asterisk, client addresses set through X-Forwarded-For from a trusted
127.0.0.1 (header values only: every packet stays on loopback)."""

from __future__ import annotations

import logging
import re

import pytest

from gateway.simulator import Simulator
from tests.support.digestclient import Digest, begin, security_events
from tests.support.harness import Client, MakeClient, basic, login, rawman, start

TRUSTED = {"trusted_proxies": ["127.0.0.1/32", "::1/128"]}
FAILED = "Response: Error\r\nMessage: Authentication failed\r\n\r\n"
TOO_MANY = "Response: Error\r\nMessage: Too many requests\r\n\r\n"


async def from_address(client: Client, address: str, query: str, session: str = "") -> str:
    headers = {"X-Forwarded-For": address}
    if session:
        headers["Cookie"] = f'mansession_id="{session}"'
    client.session.cookie_jar.clear()
    response = await client.get(f"/asterisk/rawman?{query}", headers=headers)
    return f"{response.status} {await response.text()}"


def login_query(user: str, secret: str) -> str:
    return f"action=login&username={user}&secret={secret}"


QUICK = 12
"""Requests sent back to back: far more than a burst of 3 plus what refills
while they run, however slow the machine (no timing is asserted)."""


async def test_session_rate_answers_429_and_nothing_reaches_asterisk(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, limits={"rate_per_session": 3})
    session = await login(client)  # the login is the session's first request
    sent = len(simulator.received)
    cookie = {"Cookie": f'mansession_id="{session}"'}
    statuses = []
    for _ in range(QUICK):
        response = await client.get("/asterisk/rawman?action=ping", headers=cookie)
        statuses.append(response.status)
        if response.status == 429:
            assert await response.text() == TOO_MANY
            assert response.headers["Retry-After"] == "1"
            assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert statuses[:3] == [200, 200, 200]  # the burst: 3 actions sent to Asterisk
    assert 429 in statuses
    assert set(statuses) == {200, 429}
    assert len(simulator.received) == sent + statuses.count(200)
    other = await login(client, "reader")  # another session has its own bucket
    assert (await rawman(client, other, "action=ping")).startswith("Response: Success")


async def logged_in_from(client: Client, address: str) -> str:
    answer = await from_address(client, address, login_query("admin", "admin-secret"))
    assert answer.startswith("200 Response: Success")
    for cookie in client.session.cookie_jar:
        return cookie.value.strip('"')
    raise AssertionError("no cookie")


async def test_address_rate_is_per_forwarded_address_behind_a_trusted_proxy(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, http=TRUSTED, limits={"rate_per_address": 3})
    session = await logged_in_from(client, "192.0.2.1")  # its secret check: one token
    answers = [
        await from_address(client, "192.0.2.1", "action=ping", session) for _ in range(QUICK)
    ]
    assert all(a.startswith("200 ") for a in answers[:2])
    assert f"429 {TOO_MANY}" in answers
    other = await logged_in_from(client, "192.0.2.2")
    assert (await from_address(client, "192.0.2.2", "action=ping", other)).startswith("200 ")
    for _ in range(QUICK):  # what costs Asterisk nothing is never limited
        polled = await from_address(client, "192.0.2.1", "action=waitevent&timeout=0", session)
        assert polled.startswith("200 Response: Success")
    health = await client.get("/healthz", headers={"X-Forwarded-For": "192.0.2.1"})
    assert health.status == 200


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, limits={"rate_per_address": 2})
    answers = [  # wrong secrets: each one is checked (a right one is remembered)
        await from_address(client, f"192.0.2.{n}", login_query("admin", f"guess{n}"))
        for n in range(1, QUICK + 1)
    ]
    assert f"429 {TOO_MANY}" in answers  # every spoofed address shared one bucket


async def test_permit_deny_and_security_log_use_the_forwarded_address(
    simulator: Simulator, aiohttp_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.security")
    users = {"branch": {"secret": "branch-secret", "read": "call", "permit": "203.0.113.0/24"}}
    client = await start(simulator, aiohttp_client, http=TRUSTED, users=users)
    query = login_query("branch", "branch-secret")
    assert await from_address(client, "198.51.100.1", query) == f"200 {FAILED}"
    ok = await from_address(client, "1.1.1.1, 203.0.113.5", query)
    assert ok.startswith("200 Response: Success")
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.security"]
    assert lines == [
        "ajam login failure: event=FailedACL address=198.51.100.1 user='branch'",
        "ajam login success: event=SuccessfulAuth address=203.0.113.5 user='branch'",
    ]


async def test_a_guessed_password_locks_that_address_only_with_the_same_answer(
    simulator: Simulator, aiohttp_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    limits = {"login_failures_per_user_address": 3, "login_failures_per_address": 100}
    client = await start(simulator, aiohttp_client, http=TRUSTED, limits=limits)
    attacker = "192.0.2.66"
    for guess in range(3):
        assert await from_address(client, attacker, login_query("admin", f"g{guess}")) == (
            f"200 {FAILED}"
        )
    # Locked for admin from there: even the right secret gets the same answer.
    right = login_query("admin", "admin-secret")
    assert await from_address(client, attacker, right) == f"200 {FAILED}"
    # ...and an unknown user from there is still judged on its own (no oracle).
    assert await from_address(client, attacker, login_query("nobody", "x")) == f"200 {FAILED}"
    assert (await from_address(client, "198.51.100.9", right)).startswith("200 Response: Success")
    other_user = await from_address(client, attacker, login_query("reader", "reader-secret"))
    assert other_user.startswith("200 Response: Success")
    # aiohttp.access is the test runner's own access log (production uses the
    # redacting gateway.http.accesslog); every gateway logger is checked.
    text = "\n".join(r.getMessage() for r in caplog.records if r.name != "aiohttp.access")
    assert "event=LoginRateLimited address=192.0.2.66 user='admin'" in text
    assert "admin-secret" not in text


async def test_failures_per_address_cover_every_user_name(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    limits = {"login_failures_per_address": 3, "login_failures_per_user_address": 100}
    client = await start(simulator, aiohttp_client, http=TRUSTED, limits=limits)
    for user in ("a", "b", "c"):
        await from_address(client, "192.0.2.7", login_query(user, "x"))
    right = login_query("reader", "reader-secret")
    assert await from_address(client, "192.0.2.7", right) == f"200 {FAILED}"
    assert (await from_address(client, "192.0.2.8", right)).startswith("200 Response: Success")


async def test_sessions_per_user_and_in_total(
    simulator: Simulator, aiohttp_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.security")
    users = {"one": {"secret": "one-secret", "read": "call", "max_sessions": 1}}
    client = await start(simulator, aiohttp_client, users=users, limits={"max_sessions": 3})
    await login(client, "one")
    body = await rawman(client, None, login_query("one", "one-secret"))
    assert body == "Response: Error\r\nMessage: Too many sessions\r\n\r\n"
    assert any("event=SessionLimit" in r.getMessage() for r in caplog.records)
    await login(client, "reader")
    await login(client, "admin")  # three sessions: the instance is full
    body = await rawman(client, None, login_query("caller", "caller-secret"))
    assert body == "Response: Error\r\nMessage: Too many sessions\r\n\r\n"


async def test_security_lines_are_single_fail2ban_lines_without_secrets(
    simulator: Simulator, aiohttp_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await start(simulator, aiohttp_client, http=TRUSTED)
    await from_address(client, "192.0.2.9", login_query("admin'%22x", "S3cr3t-guess"))
    await from_address(client, "2001:db8::9", login_query("ghost", "S3cr3t-guess"))
    failregex = re.compile(r"^ajam login failure: event=\w+ address=(?P<host>\S+) user=.*$")
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.security"]
    assert len(lines) == 2
    assert [failregex.match(line)["host"] for line in lines] == [  # type: ignore[index]
        "192.0.2.9",
        "2001:db8::9",
    ]
    gateway_logs = [r.getMessage() for r in caplog.records if r.name.startswith("gateway")]
    assert all("S3cr3t" not in line for line in gateway_logs)


async def test_basic_auth_guesses_are_limited_like_logins(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    limits = {"login_failures_per_user_address": 2, "login_failures_per_address": 100}
    client = await start(simulator, aiohttp_client, http=TRUSTED, limits=limits)

    async def basic_ping(address: str, secret: str) -> str:
        headers = {**basic("admin", secret), "X-Forwarded-For": address}
        client.session.cookie_jar.clear()
        response = await client.get("/asterisk/rawman?action=ping", headers=headers)
        return await response.text()

    assert [await basic_ping("192.0.2.66", f"g{n}") for n in range(2)] == [FAILED, FAILED]
    assert await basic_ping("192.0.2.66", "admin-secret") == FAILED  # locked, same answer
    assert (await basic_ping("198.51.100.2", "admin-secret")).startswith("Response: Success")


async def test_digest_guesses_are_limited_like_logins(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    limits = {"login_failures_per_user_address": 2, "login_failures_per_address": 100}
    client = await begin(simulator, aiohttp_client, limits=limits)
    guesser = Digest(client, "admin", "wrong")
    assert (await guesser.get()).status == 401  # the first 401 is no failure
    for _ in range(2):
        assert (await guesser.get()).status == 401
    right = Digest(client, "admin", "admin-secret")
    assert (await right.get()).status == 401
    assert (await right.get()).status == 401  # locked from here, same 401
    assert "LoginRateLimited" in security_events(client)
