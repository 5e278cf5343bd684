from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.simulator import Simulator
from tests.support.certs import Cert, self_signed
from tests.support.fakeami import FakeAmi, hold, loop_problems


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    """A scripted Asterisk; an ``Action: Slow`` is held unanswered."""
    server = FakeAmi()
    server.on["slow"] = hold
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def no_loop_problems() -> AsyncIterator[None]:
    """No "Task exception was never retrieved", no unclosed transport."""
    with loop_problems() as problems:
        yield
    assert problems == []


@pytest.fixture
def cert(tmp_path: Path) -> Cert:
    return self_signed(tmp_path)


@pytest.fixture
async def tls_simulator(cert: Cert) -> AsyncIterator[Simulator]:
    """The simulator on Asterisk's TLS manager port, with ``cert``."""
    sim = Simulator(auth_fail_delay=0.05)
    await sim.start(tls=cert.server_context())
    yield sim
    await sim.stop()
