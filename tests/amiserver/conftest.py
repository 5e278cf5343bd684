from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.simulator import Simulator
from gateway.simulator.channels import ManualClock
from tests.support.amidoor import DoorRun, door_gateway
from tests.support.simclient import REPLAY_SCALE, running


@pytest.fixture
async def door(simulator: Simulator) -> AsyncIterator[DoorRun]:
    """The gateway with its AMI door, against the simulator."""
    async with door_gateway(simulator.port) as running:
        yield running


@pytest.fixture
async def replay_door() -> AsyncIterator[tuple[Simulator, DoorRun]]:
    """The simulator on a clock the replay moves, at the replays' pace, and
    the gateway's door in front of it (tests/support/simreplay.py)."""
    clock = ManualClock(REPLAY_SCALE)
    async with (
        running(
            time_scale=REPLAY_SCALE, auth_fail_delay=1.0 * REPLAY_SCALE, clock=clock
        ) as simulator,
        door_gateway(simulator.port) as run,
    ):
        yield simulator, run
