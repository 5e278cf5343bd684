"""HTTP Basic end to end: one-shot requests, sessions of the same user, Login."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from types import MappingProxyType

from gateway.access.credentials import MIN_PBKDF2_ITERATIONS, hash_secret
from gateway.app import GATEWAY, create_app
from gateway.config.users import parse_users
from gateway.simulator import Simulator
from tests.support.harness import (
    COOKIE,
    Client,
    MakeClient,
    basic,
    gateway_config,
    login,
    wait_ready,
)

HASHED = hash_secret("hashed-secret", method="pbkdf2_sha256", iterations=MIN_PBKDF2_ITERATIONS)
EXTRA_USERS = {
    "hashed": {"secret_hash": HASHED, "read": "call", "write": "originate,call"},
    "fenced": {"secret": "fenced-secret", "read": "all", "write": "all", "permit": "10.0.0.0/8"},
}


async def _client(simulator: Simulator, aiohttp_client: MakeClient) -> Client:
    config = gateway_config(simulator.port, users=EXTRA_USERS)
    from_env = parse_users(
        {"envuser": {"secret_env": "ENV_SECRET", "read": "call"}}, {"ENV_SECRET": "e"}
    )
    config = replace(config, users=MappingProxyType({**config.users, **from_env}))
    app = create_app(config)
    client = await aiohttp_client(app)
    await wait_ready(app)
    return client


async def _get(client: Client, path: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    client.session.cookie_jar.clear()
    response = await client.get(path, headers=headers)
    assert response.status == 200
    return await response.text(), dict(response.headers)


async def test_one_request_runs_one_action_without_a_session(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await _client(simulator, aiohttp_client)
    gateway = client.app[GATEWAY]
    before = len(gateway.sessions)
    for fmt in ("rawman", "mxml", "manager", "json"):
        body, headers = await _get(
            client, f"/asterisk/{fmt}?action=ping&actionid=b1", basic("admin")
        )
        assert "Pong" in body, fmt
        assert "Set-Cookie" not in headers
        assert "charset=utf-8" in headers["Content-Type"]
    assert len(gateway.sessions) == before
    assert simulator.received[-1].get("Action") == "ping"


async def test_one_shot_originate_with_the_users_rights(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await _client(simulator, aiohttp_client)
    query = "action=originate&channel=Local/600@test&application=Wait&data=2000"
    body, _ = await _get(client, f"/asterisk/rawman?{query}", basic("caller"))
    assert body.startswith("Response: Success\r\nMessage: Originate successfully queued")
    sent = len(simulator.received)
    body, _ = await _get(client, f"/asterisk/rawman?{query}", basic("reader"))
    assert body == "Response: Error\r\nMessage: Permission denied\r\n\r\n"
    assert [m for m in simulator.received[sent:] if m.get("Action") != "Ping"] == []


async def test_waitevent_needs_a_session(simulator: Simulator, aiohttp_client: MakeClient) -> None:
    client = await _client(simulator, aiohttp_client)
    body, headers = await _get(client, "/asterisk/rawman?action=waitevent", basic("admin"))
    assert body == "Response: Error\r\nMessage: waitevent needs a session\r\n\r\n"
    assert "Set-Cookie" not in headers


async def test_failures_are_delayed_and_raise_security_events(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await _client(simulator, aiohttp_client)
    gateway = client.app[GATEWAY]
    sent = len(simulator.received)
    for headers in (basic("admin", "wrong"), basic("nobody"), basic("fenced")):
        started = time.monotonic()
        body, answer = await _get(client, "/asterisk/rawman?action=ping", headers)
        assert body == "Response: Error\r\nMessage: Authentication failed\r\n\r\n"
        assert time.monotonic() - started >= 0.05  # the configured login_fail_delay
        assert "Set-Cookie" not in answer
    assert gateway.security.failures == 3
    names = [e.message.name for e in gateway.log.since(0)[1]]
    assert [n for n in names if n != "SuccessfulAuth"][-3:] == [
        "InvalidPassword",
        "InvalidAccountID",
        "FailedACL",
    ]
    assert [m for m in simulator.received[sent:] if m.get("Action") != "Ping"] == []


async def test_hashed_and_env_secrets(simulator: Simulator, aiohttp_client: MakeClient) -> None:
    client = await _client(simulator, aiohttp_client)
    body, _ = await _get(client, "/asterisk/rawman?action=ping", basic("hashed"))
    assert "Pong" in body
    body, _ = await _get(client, "/asterisk/rawman?action=ping", basic("envuser", "e"))
    assert "Pong" in body
    body, _ = await _get(client, "/asterisk/rawman?action=ping", basic("hashed", "nope"))
    assert "Authentication failed" in body


async def test_basic_with_a_session_of_the_same_user_uses_it(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await _client(simulator, aiohttp_client)
    session = await login(client, "caller")
    cookie = {"Cookie": f"mansession_id={session}"}  # unquoted, as some clients send it
    body, headers = await _get(
        client,
        "/asterisk/rawman?action=waitevent&timeout=0",
        {**basic("Caller", "caller-secret"), **cookie},
    )
    assert body.startswith("Response: Success\r\nMessage: Waiting for Event completed.")
    match = COOKIE.match(headers["Set-Cookie"])
    assert match is not None
    assert match.group(1) == session
    body, _ = await _get(
        client, f"/asterisk/json?action=ping&mansession_id={session}", basic("caller", "bad")
    )
    assert json.loads(body)["response"]["Message"] == "Authentication failed"
    assert client.app[GATEWAY].sessions.get(session, time.monotonic()) is not None


async def test_basic_with_another_users_session_is_refused(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await _client(simulator, aiohttp_client)
    session = await login(client, "reader")
    sent = len(simulator.received)
    body, _ = await _get(
        client, f"/asterisk/rawman?action=ping&mansession_id={session}", basic("admin")
    )
    assert body == (
        "Response: Error\r\nMessage: Authorization names another user than the session\r\n\r\n"
    )
    assert [m for m in simulator.received[sent:] if m.get("Action") != "Ping"] == []


async def test_login_with_basic_opens_a_session(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await _client(simulator, aiohttp_client)
    body, headers = await _get(client, "/asterisk/json?action=login", basic("hashed"))
    answer = json.loads(body)
    assert answer["response"]["Message"] == "Authentication accepted"
    match = COOKIE.match(headers["Set-Cookie"])
    assert match is not None
    assert match.group(1) == answer["session"]
    body, _ = await _get(
        client, f"/asterisk/rawman?action=ping&mansession_id={answer['session']}", {}
    )
    assert "Pong" in body
    body, _ = await _get(client, "/asterisk/rawman?action=login&username=admin", basic("hashed"))
    assert "Authorization names another user than the session" in body
    reader = await login(client, "reader")
    body, _ = await _get(
        client, f"/asterisk/rawman?action=login&mansession_id={reader}", basic("hashed")
    )
    assert "Authorization names another user than the session" in body
    body, _ = await _get(
        client, f"/asterisk/rawman?action=login&mansession_id={reader}", basic("reader")
    )
    assert body == "Response: Success\r\nMessage: Already authenticated\r\n\r\n"


async def test_malformed_basic_is_a_bad_request(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await _client(simulator, aiohttp_client)
    client.session.cookie_jar.clear()
    response = await client.get(
        "/asterisk/rawman?action=ping", headers={"Authorization": "Basic %%%"}
    )
    assert response.status == 400
    assert "Malformed Basic credentials" in await response.text()
    assert "Set-Cookie" not in response.headers
