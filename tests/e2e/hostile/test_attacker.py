"""The attacker's process (``tests.support.attacker``) fails the test that
runs it, with its stderr, and is never left behind."""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator

import pytest

from tests.support.attacker import Attacker, attacking
from tests.support.procs import free_port


@pytest.fixture
def listening() -> Iterator[int]:
    """A port that takes connections (the kernel's backlog) and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


async def test_an_attack_that_cannot_start_fails_with_its_stderr() -> None:
    with pytest.raises(AssertionError, match="did not get under way") as failed:
        async with attacking("silent_sockets", free_port()):
            pass
    assert "ConnectionRefusedError" in str(failed.value)  # the child's traceback


async def test_an_attacker_that_died_fails_at_stop(listening: int) -> None:
    async with attacking("silent_sockets", listening) as attacker:
        attacker.process.send_signal(signal.SIGKILL)
        with pytest.raises(AssertionError, match=f"exited {-signal.SIGKILL.value}"):
            await attacker.stop()


async def test_it_is_killed_when_the_test_fails_first(listening: int) -> None:
    attackers: list[Attacker] = []

    async def failing() -> None:
        async with attacking("silent_sockets", listening) as attacker:
            attackers.append(attacker)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        await failing()
    assert attackers[0].process.returncode == -signal.SIGKILL.value


async def test_it_reports_what_it_did_when_stopped(listening: int) -> None:
    async with attacking("silent_sockets", listening) as attacker:
        tally = await attacker.stop()
    assert tally.counts["opened"] >= 1
    assert attacker.process.returncode == 0
