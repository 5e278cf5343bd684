"""The permission matrix on the AMI door, equal to the AJAM one
(tests/access/test_permission_matrix.py, whose data it shares:
tests/support/permissions.py): for no class, each single class, all and
mixed sets, every captured action is refused ``Permission denied`` exactly
when manager.conf's write rule says so, and every captured event reaches a
connection exactly when the read rule and its event mask say so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Final

import pytest

from gateway.ami.message import Message
from gateway.simulator import Simulator
from tests.support.amidoor import DoorRun, door_client, door_gateway
from tests.support.permissions import (
    ACTIONS,
    CLASS_SETS,
    EVENTS,
    MASKS,
    may_read,
    may_run,
    spec,
)

SESSION_ENDING: Final = frozenset({"Logoff"})
"""Allowed to everyone (no class), and it ends the connection: tried last."""
TAG: Final = "MatrixTag"
NOT_PASSED_ON: Final = frozenset({"Shutdown"})
"""D12: Asterisk's own Event: Shutdown never reaches a door client (stricter,
never looser than the read rule)."""


def user_name(index: int) -> str:
    return f"u{index}"


@pytest.fixture
async def matrix_door(simulator: Simulator) -> AsyncIterator[DoorRun]:
    users: dict[str, Any] = {
        user_name(i): {
            "secret": "s",
            "read": spec(classes),
            "write": spec(classes),
            # Names every action: the deny-list of dangerous uses steps aside,
            # the classes stay (as the AJAM matrix's "allow_all").
            "actions_allow": sorted(ACTIONS),
        }
        for i, classes in enumerate(CLASS_SETS)
    }
    async with door_gateway(simulator.port, users=users) as run:
        yield run


def ids() -> list[str]:
    return [spec(classes) for classes in CLASS_SETS]


@pytest.mark.parametrize("index", range(len(CLASS_SETS)), ids=ids())
async def test_write_matrix_on_the_door(matrix_door: DoorRun, index: int) -> None:
    classes = CLASS_SETS[index]
    client = await door_client(matrix_door.port, user_name(index), "s")
    tried = [action for action in sorted(ACTIONS) if action not in SESSION_ENDING]
    client.writer.write(b"".join(f"Action: {a}\r\nActionID: w-{a}\r\n\r\n".encode() for a in tried))
    wrong = []
    for action in tried:
        answer = await client.until(f"w-{action}")
        denied = answer.get("Message") == "Permission denied"
        if denied == may_run(action, classes):
            wrong.append((action, answer.get("Message")))
    assert wrong == []
    client.send("Action: Logoff", "ActionID: bye")
    assert (await client.until("bye")).name == "Goodbye"
    client.close()


@pytest.mark.parametrize("index", range(len(CLASS_SETS)), ids=ids())
async def test_read_matrix_on_the_door(matrix_door: DoorRun, index: int) -> None:
    classes = CLASS_SETS[index]
    client = await door_client(matrix_door.port, user_name(index), "s")
    log = matrix_door.gateway.log
    wrong = []
    for mask_text in MASKS:
        client.send("Action: Events", f"ActionID: m-{mask_text}", f"EventMask: {mask_text}")
        await client.until(f"m-{mask_text}")
        tagged = [
            Message((*event.fields, (TAG, f"{mask_text}/{n}"))) for n, event in enumerate(EVENTS)
        ]
        for event in tagged:
            log.append(event)
        client.send("Action: Ping", f"ActionID: after-{mask_text}")  # events come before it
        await client.until(f"after-{mask_text}")
        got = {m.get(TAG) for m in client.before if m.get(TAG)}
        for n, event in enumerate(tagged):
            expected = may_read(event, classes, mask_text) and event.name not in NOT_PASSED_ON
            if (f"{mask_text}/{n}" in got) != expected:
                wrong.append((mask_text, event.name, event.get("Privilege")))
    assert wrong == []
    client.close()
