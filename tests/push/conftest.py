"""A served gateway (real AppRunner on loopback) for the push tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack
from typing import Any

import pytest
from aiohttp import web

from gateway.simulator import Simulator
from tests.support.harness import new_app, served
from tests.support.pushclient import Serve


@pytest.fixture
async def serve(simulator: Simulator) -> AsyncIterator[Serve]:
    """``await serve(push={...}, ...)``: a gateway app and its base URL."""
    async with AsyncExitStack() as stack:

        async def start(**sections: Mapping[str, Any]) -> tuple[web.Application, str]:
            app = new_app(simulator.port, **sections)
            base = await stack.enter_async_context(served(app))
            return app, base

        yield start
