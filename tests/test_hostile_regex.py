"""Issue 11, item 1: a hostile filter regex must not stall the gateway.

Asterisk compiles ``Action: Filter`` and ``eventfilter`` patterns with
regcomp(REG_EXTENDED) and runs them on every event.  Python's backtracking
``re`` took exponential time on ``(.*.*)*Q``: one write=system user froze
the event loop for everyone.  Each attack runs in a child process (or against
a gateway process), so that the unfixed code fails the test instead of
hanging it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, ClientTimeout, CookieJar

from gateway.simulator import Simulator
from tests.procs import ROOT, GatewayProcess, free_port, write_config

ATTACKS = ("^.*.*.*.*Q", "(.*.*)*Q", "(.*){1,32}(.*){1,32}Q")
"""Patterns with exponential (or high polynomial) backtracking, none matching."""

MATCHES = 200
"""Matches timed per pattern, each over a 1,000-byte event."""
BOUND = 5.0
"""Seconds for all of them: generous for a loaded machine; backtracking never ends."""


def _in_child(code: str, timeout: float = 15.0) -> str:
    """Run ``code`` in a fresh interpreter on this checkout; its stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"matching did not finish in {timeout} s: the loop would stall")
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("pattern", ATTACKS)
@pytest.mark.parametrize("how", ["filter_action", "eventfilter_legacy", "eventfilter_regex"])
def test_matching_a_hostile_filter_takes_bounded_time(pattern: str, how: str) -> None:
    out = _in_child(
        f"""
        import time
        from gateway.ami.message import Message
        from gateway.configusers import UserConfig
        from gateway.eventfilter import parse_filter_action

        pattern = {pattern!r}
        how = {how!r}
        if how == "filter_action":
            test = parse_filter_action(None, pattern).applies
        elif how == "eventfilter_legacy":
            test = UserConfig(name="u", eventfilter=(pattern,)).event_filter.matches
        else:
            spec = "eventfilter(name(UserEvent),header(Body),method(regex)) = " + pattern
            test = UserConfig(name="u", eventfilter=(spec,)).event_filter.matches
        body = "x" * 1000
        message = Message.of(("Event", "UserEvent"), ("Body", body))
        text = "Event: UserEvent\\r\\nBody: " + body + "\\r\\n"
        began = time.perf_counter()
        hits = sum(1 for _ in range({MATCHES}) if test(text, message))
        print(hits, time.perf_counter() - began)
        """
    )
    hits, elapsed = out.split()
    assert hits == "0"  # no event carries a Q
    assert float(elapsed) < BOUND


@pytest.fixture
async def gateway(tmp_path: Path, simulator: Simulator) -> AsyncIterator[GatewayProcess]:
    """A gateway process (a stalled loop must not stall the test's own loop)."""
    port = free_port()
    users = {
        "admin": {"secret": "admin-secret", "read": "all", "write": "all"},
        "ops": {"secret": "ops-secret", "read": "all", "write": "system,user"},
    }
    config = write_config(
        tmp_path / "gateway.toml", ami_port=simulator.port, port=port, users=users
    )
    process = GatewayProcess(config, port, tmp_path / "gateway.log")
    await process.start()
    try:
        await process.wait_ready()
        yield process
    finally:
        await process.stop()


async def _get(client: ClientSession, url: str, **params: str) -> str:
    async with client.get(url, params=params) as response:
        assert response.status == 200
        return await response.text()


async def _timed(client: ClientSession, url: str, **params: str) -> float:
    began = time.monotonic()
    await _get(client, url, **params)
    return time.monotonic() - began


@pytest.mark.parametrize("pattern", ["^.*.*.*.*Q", "(.*.*)*Q"])
async def test_a_hostile_filter_does_not_stall_healthz_or_ping(
    gateway: GatewayProcess, simulator: Simulator, pattern: str
) -> None:
    url = f"{gateway.base}/asterisk/rawman"
    timeout = ClientTimeout(total=10)
    async with (
        ClientSession(cookie_jar=CookieJar(unsafe=True), timeout=timeout) as attacker,
        ClientSession(cookie_jar=CookieJar(unsafe=True), timeout=timeout) as admin,
    ):
        await _get(attacker, url, action="login", username="ops", secret="ops-secret")
        added = await _get(attacker, url, action="filter", operation="add", filter=pattern)
        assert "Response: Success" in added
        await _get(admin, url, action="login", username="admin", secret="admin-secret")
        poll = asyncio.create_task(_get(attacker, url, action="waitevent", timeout="3"))
        slowest = 0.0
        try:
            for n in range(10):
                body = f"{n}" + "x" * 900
                sent = await _get(admin, url, action="userevent", userevent="Flood", body=body)
                assert "Response: Success" in sent
                slowest = max(
                    slowest,
                    await _timed(admin, f"{gateway.base}/healthz"),
                    await _timed(admin, url, action="ping"),
                )
        finally:
            reply = await asyncio.wait_for(poll, 10)
        assert "Flood" not in reply  # the filter matches none of them
        assert slowest < 1.0, f"slowest answer {slowest:.3f} s while events flowed"
