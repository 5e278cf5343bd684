"""Brute force: 1,000 wrong passwords from one address do not slow anyone else,
and the right password from another address still works.

Addresses are X-Forwarded-For values from the trusted 127.0.0.1: every
packet stays on loopback.  The attacked user has a salted scrypt hash, so
each checked guess really costs CPU; the login guard must stop checking.
Bounds are generous: a ping normally takes a few milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import time

import aiohttp
import pytest

from gateway.access.rights import hash_secret
from gateway.config import LimitsConfig
from gateway.simulator import Simulator
from tests.support.harness import Client, MakeClient, start

ATTACKER = "192.0.2.66"
ATTEMPTS = 1000
CONCURRENCY = 50


async def get(client: Client, query: str, address: str, session: str = "") -> tuple[int, str]:
    """One request with no cookie jar: each caller names its own session."""
    headers = {"X-Forwarded-For": address}
    if session:
        headers["Cookie"] = f'mansession_id="{session}"'
    url = client.make_url(f"/asterisk/json?{query}")
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
        http.get(url, headers=headers) as response,
    ):
        return response.status, await response.text()


async def json_login(client: Client, user: str, secret: str, address: str) -> str:
    status, text = await get(client, f"action=login&username={user}&secret={secret}", address)
    assert status == 200
    body = json.loads(text)
    assert body["response"]["Message"] == "Authentication accepted", text
    return str(body["session"])


async def attack(client: Client) -> list[tuple[int, str]]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def guess(n: int) -> tuple[int, str]:
        async with gate:
            return await get(client, f"action=login&username=victim&secret=guess{n}", ATTACKER)

    return await asyncio.gather(*(guess(n) for n in range(ATTEMPTS)))


async def test_a_thousand_wrong_passwords_slow_no_one_and_lock_out_no_one_else(
    simulator: Simulator, aiohttp_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.security")
    defaults = LimitsConfig()
    users = {"victim": {"secret_hash": hash_secret("victim-secret"), "read": "call"}}
    client = await start(
        simulator,
        aiohttp_client,
        http={"trusted_proxies": ["127.0.0.1/32"]},
        users=users,
        limits={
            "login_fail_delay": 0.2,
            "rate_per_address": defaults.rate_per_address,
            "rate_per_session": defaults.rate_per_session,
        },
    )
    bystander = await json_login(client, "admin", "admin-secret", "198.51.100.1")
    attack_task = asyncio.create_task(attack(client))
    latencies = []
    while not attack_task.done():
        began = time.monotonic()
        status, text = await get(client, "action=ping", "198.51.100.1", bystander)
        latencies.append(time.monotonic() - began)
        assert status == 200, (text, len(latencies))
        assert json.loads(text)["response"]["Ping"] == "Pong"
        await asyncio.sleep(0.02)
    answers = await attack_task
    assert len(latencies) > 5  # the bystander really ran during the attack
    assert max(latencies) < 2.0
    assert statistics.median(latencies) < 0.5

    failed = [a for a in answers if a[0] == 200]
    limited = [a for a in answers if a[0] == 429]
    assert len(failed) + len(limited) == ATTEMPTS
    assert len(failed) > defaults.login_failures_per_address  # the guard was reached
    assert {text for _, text in failed} == {failed[0][1]}  # one answer, whatever happened
    assert json.loads(failed[0][1])["response"] == {
        "Response": "Error",
        "Message": "Authentication failed",
    }
    # The guard stopped checking secrets: the first wave in flight at once is
    # hashed (a clean address lets concurrent logins through), then the
    # per-address budget stops everything else.
    events = [r.getMessage() for r in caplog.records if r.name == "gateway.security"]
    checked = sum("event=InvalidPassword" in line for line in events)
    assert 0 < checked <= defaults.login_failures_per_address + CONCURRENCY
    assert sum("event=LoginRateLimited" in line for line in events) == len(failed) - checked

    # The victim still logs in from anywhere else, and the attacker stays out.
    await json_login(client, "victim", "victim-secret", "203.0.113.7")
    status, text = await get(client, "action=login&username=victim&secret=victim-secret", ATTACKER)
    assert status in (200, 429)
    assert "Authentication accepted" not in text
