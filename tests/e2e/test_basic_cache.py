"""Issue 11, item 13: HTTP Basic must not cost a salted hash per request.

The 1C module sends Basic on every call; with ``secret_hash``
each request spent ~50 ms of CPU on the hash.  The login gate now keeps
verified credentials a short while (``[limits] login_cache_ttl``), keyed by
an HMAC of user, address and secret under a per-process key, so only the
first request of a burst pays.  Counted here by the calls that check a
secret against its hash, never by timing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from gateway.access import accounts, credentials
from gateway.access.credentials import MIN_PBKDF2_ITERATIONS, hash_secret
from gateway.app import GATEWAY
from gateway.lifecycle import reload_config
from gateway.simulator import Simulator
from tests.support.harness import Client, MakeClient, basic, start

HASHED = hash_secret("crm-secret", method="pbkdf2_sha256", iterations=MIN_PBKDF2_ITERATIONS)
USERS = {"crm": {"secret_hash": HASHED, "read": "call,cdr", "write": "originate,call"}}
TRUSTED = {"trusted_proxies": ["127.0.0.1/32"]}
FAILED = "Response: Error\r\nMessage: Authentication failed\r\n\r\n"


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The user names whose secret was checked against its hash, in order."""
    checked: list[str] = []
    real: Callable[..., bool] = credentials.verify_secret

    def counting(user: Any, secret: str) -> bool:
        checked.append(user.name)
        return real(user, secret)

    monkeypatch.setattr(accounts, "verify_secret", counting)
    return checked


async def ping(client: Client, secret: str = "crm-secret", address: str = "192.0.2.1") -> str:
    client.session.cookie_jar.clear()
    headers = {**basic("crm", secret), "X-Forwarded-For": address}
    response = await client.get("/asterisk/rawman?action=ping", headers=headers)
    assert response.status == 200
    return await response.text()


async def test_only_the_first_request_of_a_burst_pays_the_hash(
    simulator: Simulator, aiohttp_client: MakeClient, hashes: list[str]
) -> None:
    client = await start(simulator, aiohttp_client, users=USERS, http=TRUSTED)
    for _ in range(20):
        assert "Ping: Pong" in await ping(client)
    assert hashes == ["crm"]
    history = await client.get(
        "/asterisk/history", headers={**basic("crm"), "X-Forwarded-For": "192.0.2.1"}
    )
    assert history.status in (200, 404)  # /history's Basic goes through the same gate
    assert hashes == ["crm"]


async def test_every_request_still_raises_its_security_event(
    simulator: Simulator, aiohttp_client: MakeClient, hashes: list[str]
) -> None:
    client = await start(simulator, aiohttp_client, users=USERS, http=TRUSTED)
    log = client.app[GATEWAY].log
    for _ in range(5):
        await ping(client)
    successes = [
        e
        for e in log.since(0)[1]
        if e.message.name == "SuccessfulAuth" and e.message.get("AccountID") == "crm"
    ]
    assert len(successes) == 5  # one per one-shot request, cached or not
    assert hashes == ["crm"]


async def test_failures_are_never_cached_and_another_address_pays_again(
    simulator: Simulator, aiohttp_client: MakeClient, hashes: list[str]
) -> None:
    client = await start(simulator, aiohttp_client, users=USERS, http=TRUSTED)
    assert "Ping: Pong" in await ping(client)
    for _ in range(3):
        assert await ping(client, "wrong") == FAILED
    assert hashes == ["crm"] * 4
    assert "Ping: Pong" in await ping(client, address="192.0.2.2")
    assert hashes == ["crm"] * 5


async def test_the_login_guard_applies_before_the_cache(
    simulator: Simulator, aiohttp_client: MakeClient, hashes: list[str]
) -> None:
    limits = {"login_failures_per_user_address": 2}
    client = await start(simulator, aiohttp_client, users=USERS, http=TRUSTED, limits=limits)
    assert "Ping: Pong" in await ping(client)
    for _ in range(2):
        assert await ping(client, "wrong") == FAILED
    assert await ping(client) == FAILED  # locked, cached secret or not
    assert "LoginRateLimited" in {e.message.name for e in client.app[GATEWAY].log.since(0)[1]}


async def test_a_reload_drops_the_cache(
    simulator: Simulator, aiohttp_client: MakeClient, hashes: list[str]
) -> None:
    client = await start(simulator, aiohttp_client, users=USERS, http=TRUSTED)
    await ping(client)
    app = client.app
    config = app[GATEWAY].config
    reload_config(app, config)
    await ping(client)
    assert hashes == ["crm", "crm"]
    renamed = {"crm": dataclasses.replace(config.users["crm"], secret_hash=None, secret="new")}
    reload_config(app, dataclasses.replace(config, users=renamed))
    assert await ping(client) == FAILED  # the old secret, cached before the change
    assert "Ping: Pong" in await ping(client, "new")


async def test_the_cache_can_be_turned_off(
    simulator: Simulator, aiohttp_client: MakeClient, hashes: list[str]
) -> None:
    limits = {"login_cache_ttl": 0}
    client = await start(simulator, aiohttp_client, users=USERS, http=TRUSTED, limits=limits)
    for _ in range(3):
        await ping(client)
    assert hashes == ["crm"] * 3
