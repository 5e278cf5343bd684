"""Every ``ami/`` capture replayed through the AMI door, with the simulator
as the Asterisk behind the gateway: the client's bytes must match the
capture after masking, as strictly as the simulator's own replays
(tests/simulator/test_server.py: EXACT, CALLS, NAMES_ONLY), except where the
gateway differs on purpose.  ``DEVIATIONS`` says what the capture becomes
for each such case and which row of docs/deviations.md says why.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Final

import pytest

from gateway.simulator import Simulator
from tests.support.amidoor import DoorRun
from tests.support.fixturedata import ami_cases, ami_recv
from tests.support.simreplay import (
    CALLS,
    EXACT,
    HOOKS,
    NAMES_ONLY,
    compare_replay,
    load_case,
    replay,
)

Change = Callable[[bytes], bytes]


def without_event(name: str) -> Change:
    """The capture with every ``Event: <name>`` message left out."""

    def change(data: bytes) -> bytes:
        head, banner_end, rest = data.partition(b"\r\n")
        kept = [m for m in rest.split(b"\r\n\r\n") if not m.startswith(b"Event: " + name.encode())]
        return head + banner_end + b"\r\n\r\n".join(kept)

    return change


def replaced(old: bytes, new: bytes) -> Change:
    def change(data: bytes) -> bytes:
        assert old in data
        return data.replace(old, new)

    return change


SHUTDOWN = re.compile(rb"Event: Shutdown\r\n.*?\r\n\r\n", re.DOTALL)


def upstream_shutdown_kept_home(data: bytes) -> bytes:
    """D12: Asterisk's Shutdown is not passed on and the client's connection
    stays up; the gateway tells it the link went down instead."""
    down = (
        b"Event: GatewayAMIDown\r\nPrivilege: system,all\r\n"
        b"Reason: Asterisk closed the connection\r\n\r\n"
    )
    assert SHUTDOWN.search(data)
    return SHUTDOWN.sub(lambda _: down, data)


@dataclasses.dataclass(frozen=True, slots=True)
class Deviation:
    row: str
    """The docs/deviations.md row (or the AMI door's D-number) that says why."""
    change: Change
    keeps_open: bool = False
    """The capture shows Asterisk closing the socket; the door does not."""


DEVIATIONS: Final[Mapping[str, Deviation]] = {
    "unknown_action": Deviation(
        "an action Asterisk does not list in ListCommands: answered without a round trip,"
        " so Asterisk raises no RequestBadFormat",
        without_event("RequestBadFormat"),
    ),
    "command_error": Deviation(
        "Command: only commands whose words begin with a commands_allow prefix",
        replaced(
            b"Response: Error\r\nActionID: cmd-err-1\r\nMessage: Command output follows\r\n"
            b"Output: No such command 'foo bar baz' (type 'core show help foo bar' for other"
            b" possible commands)\r\n",
            b"Response: Error\r\nActionID: cmd-err-1\r\nMessage: Permission denied\r\n",
        ),
    ),
    "crlf_userevent_from_ajam": Deviation(
        "CR, LF or NUL: what another client injected into Asterisk and Asterisk"
        " reflects as a message starting 'Action:' is discarded by the gateway's codec",
        replaced(b"Action: Logoff\r\n\r\n", b""),
    ),
    "shutdown_event": Deviation(
        "D12: Asterisk's own Event: Shutdown is not passed on; the door keeps the client",
        upstream_shutdown_kept_home,
        keeps_open=True,
    ),
}


def test_every_case_is_replayed_and_every_deviation_names_a_case() -> None:
    assert set(ami_cases()) == EXACT | CALLS | NAMES_ONLY
    assert set(DEVIATIONS) <= set(ami_cases())


@pytest.mark.parametrize("case", sorted(EXACT | CALLS | NAMES_ONLY))
async def test_the_door_replays_the_capture(
    replay_door: tuple[Simulator, DoorRun], case: str
) -> None:
    simulator, run = replay_door
    deviation = DEVIATIONS.get(case)
    loaded = load_case(case, HOOKS)
    if deviation is not None and deviation.keeps_open:
        loaded = dataclasses.replace(loaded, server_closes=False)
    data = await replay(simulator, loaded, run)
    expected = ami_recv(case)
    if deviation is not None:
        expected = deviation.change(expected)
    compare_replay(case, data, expected)
