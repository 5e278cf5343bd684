from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.simulator import Simulator


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    sim = Simulator(auth_fail_delay=0.05)
    await sim.start()
    yield sim
    await sim.stop()
