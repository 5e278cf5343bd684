from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.simulator import Simulator
from tests.support.amidoor import DoorRun, door_gateway


@pytest.fixture
async def door(simulator: Simulator) -> AsyncIterator[DoorRun]:
    """The gateway with its AMI door, against the simulator."""
    async with door_gateway(simulator.port) as running:
        yield running
