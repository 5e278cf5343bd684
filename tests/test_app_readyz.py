"""Issue 11, item 11 (second part): /readyz needs no login, so it says only
whether the instance is ready and, if not, why in one generic word; the
details (the AMI account, address, Asterisk's message) go to the log."""

from __future__ import annotations

import logging
import socket

import pytest

from gateway.app import GATEWAY
from gateway.lifecycle import begin_drain
from gateway.simulator import Simulator
from tests.support.harness import Client, MakeClient, new_app, start, until


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def readyz(client: Client) -> tuple[int, str]:
    response = await client.get("/readyz")
    return response.status, await response.text()


async def test_ready_and_draining(simulator: Simulator, aiohttp_client: MakeClient) -> None:
    client = await start(simulator, aiohttp_client)
    assert await readyz(client) == (200, "ready\n")
    begin_drain(client.app[GATEWAY])
    assert await readyz(client) == (503, "not ready: draining\n")


async def test_a_refused_ami_login_is_told_to_the_log_not_to_the_probe(
    simulator: Simulator, aiohttp_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = new_app(simulator.port, ami={"secret": "not-the-secret"})
    client = await aiohttp_client(app)
    await until(lambda: app[GATEWAY].ami.login_failures > 0)
    status, body = await readyz(client)
    assert (status, body) == (503, "not ready: ami-down\n")
    assert "admin" not in body
    assert any("AMI login as 'admin' failed" in r.getMessage() for r in caplog.records)


async def test_an_unreachable_asterisk_is_told_to_the_log_not_to_the_probe(
    aiohttp_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "gateway.ami")
    port = closed_port()
    app = new_app(port)
    client = await aiohttp_client(app)
    await until(lambda: app[GATEWAY].ami.last_error)
    status, body = await readyz(client)
    assert (status, body) == (503, "not ready: ami-down\n")
    assert str(port) not in body
    assert "127.0.0.1" not in body
    logged = [r.getMessage() for r in caplog.records]
    assert any(f"AMI link to 127.0.0.1:{port} lost" in m and str(port) in m for m in logged)
