from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, DummyCookieJar, web
from aiohttp.test_utils import TestServer

from gateway.simulator import Simulator
from tests.support.harness import new_app, wait_ready
from tests.support.nginxcluster import Cluster, running_cluster
from tests.support.onec import CRM_USER
from tests.support.procs import GatewayProcess, free_port, write_config

MakeServer = Callable[[web.Application], Any]


@pytest.fixture
async def onec(simulator: Simulator, aiohttp_server: MakeServer) -> AsyncIterator[ClientSession]:
    """An HTTP client that, like HTTPСоединение, keeps no cookies."""
    app = new_app(simulator.port, users={"crm": CRM_USER})
    server: TestServer = await aiohttp_server(app)
    await wait_ready(app)
    async with ClientSession(
        base_url=f"http://127.0.0.1:{server.port}", cookie_jar=DummyCookieJar()
    ) as session:
        yield session


@pytest.fixture
async def cluster(tmp_path: Path, simulator: Simulator) -> AsyncIterator[Cluster]:
    async with running_cluster(tmp_path, simulator) as running:
        yield running


@pytest.fixture
async def gateway_process(tmp_path: Path, simulator: Simulator) -> AsyncIterator[GatewayProcess]:
    """A gateway process with an ``ops`` user who may Filter (a stalled loop
    must not stall the test's own loop)."""
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
