"""``[ami] tls``: the gateway against a TLS manager port (the simulator behind
a self-signed certificate made for the test)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from gateway.ami.client import tls_context
from gateway.ami.settings import AmiConfig
from gateway.app import GATEWAY
from gateway.simulator import Simulator
from tests.support.certs import Cert
from tests.support.harness import MakeClient, login, new_app, rawman, until, wait_ready


def tls_app(sim: Simulator, **ami: Any) -> web.Application:
    return new_app(sim.port, ami={"tls": True, **ami})


async def test_logs_in_over_tls_trusting_the_given_ca(
    tls_simulator: Simulator, cert: Cert, aiohttp_client: MakeClient
) -> None:
    app = tls_app(tls_simulator, tls_ca=str(cert.cert))
    client = await aiohttp_client(app)
    await wait_ready(app)
    session = await login(client)
    assert "Ping: Pong" in await rawman(client, session, "action=ping")
    assert tls_simulator.logins == 1


async def test_an_untrusted_certificate_is_refused_with_a_clear_reason(
    tls_simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    app = tls_app(tls_simulator)  # the system's CAs do not know the test's certificate
    client = await aiohttp_client(app)
    gateway = app[GATEWAY]
    await until(lambda: gateway.ami.last_error)
    assert "CERTIFICATE_VERIFY_FAILED" in gateway.ami.last_error
    assert not gateway.ami.ready
    assert tls_simulator.logins == 0
    response = await client.get("/readyz")
    assert response.status == 503


async def test_tls_verify_false_accepts_any_certificate(
    tls_simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    app = tls_app(tls_simulator, tls_verify=False)
    await aiohttp_client(app)
    await wait_ready(app)
    assert tls_simulator.logins == 1


async def test_plain_tcp_is_refused_by_a_tls_port(
    tls_simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    app = new_app(tls_simulator.port)  # tls = false against the TLS port
    await aiohttp_client(app)
    with pytest.raises(TimeoutError):
        await wait_ready(app, timeout=0.5)
    assert tls_simulator.logins == 0


def test_tls_context_follows_the_settings(cert: Cert) -> None:
    assert tls_context(AmiConfig()) is None
    checked = tls_context(AmiConfig(tls=True, tls_ca=str(cert.cert)))
    assert checked is not None
    assert checked.check_hostname
    unchecked = tls_context(AmiConfig(tls=True, tls_verify=False))
    assert unchecked is not None
    assert not unchecked.check_hostname
