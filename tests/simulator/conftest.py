from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.simulator import Simulator
from gateway.simulator.channels import ManualClock
from gateway.simulator.pbx import Pbx
from tests.support.simclient import REPLAY_SCALE, Client, Recorder, connect, running, running_pbx


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """Simulated time 100 times faster than the wall's; failed logins wait 10 ms."""
    async with running(time_scale=0.01, auth_fail_delay=0.01) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[Client]:
    """A connection to ``sim``, logged in as admin."""
    conn = await connect(sim)
    yield conn
    conn.close()


@pytest.fixture
async def settled_client(client: Client) -> Client:
    """``client`` once it has read its own SuccessfulAuth."""
    await client.until("SuccessfulAuth")
    return client


@pytest.fixture
async def server_sim() -> AsyncIterator[Simulator]:
    """At the replays' pace (``REPLAY_SCALE``), with Asterisk's 1 s login delay scaled."""
    async with running(time_scale=REPLAY_SCALE, auth_fail_delay=1.0 * REPLAY_SCALE) as simulator:
        yield simulator


@pytest.fixture
async def replay_sim() -> AsyncIterator[Simulator]:
    """Call timers on a clock the replay moves (tests/support/simreplay.py)."""
    clock = ManualClock(REPLAY_SCALE)
    async with running(
        time_scale=REPLAY_SCALE, auth_fail_delay=1.0 * REPLAY_SCALE, clock=clock
    ) as simulator:
        yield simulator


@pytest.fixture
async def pbx() -> AsyncIterator[tuple[Pbx, Recorder]]:
    """The PBX alone (no AMI), its events recorded, time 50 times faster."""
    async with running_pbx(0.02) as both:
        yield both
