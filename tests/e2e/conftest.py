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
