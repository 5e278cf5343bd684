"""The 1C kit's tests run against a simulator at the kit's pace, and a gateway
with the kit's users (tests/support/onec_gateway.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.simulator import Simulator
from tests.support.onec_gateway import kit_app, serve, start_simulator


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    """The simulator at the kit's pace (instead of tests/conftest.py's)."""
    sim = await start_simulator()
    yield sim
    await sim.stop()


@pytest.fixture
async def port(simulator: Simulator) -> AsyncIterator[int]:
    """The port of a gateway with the kit's users, on ``simulator``."""
    async with serve(kit_app(simulator)) as bound:
        yield bound
