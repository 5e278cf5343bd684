"""The permission matrix: manager.conf's semantics over the captured actions
and events, for no class, each single class, all, and mixed sets.

The expected answers are computed from the captures' own text (the
``(Priv: ...)`` of ListCommands, the ``Privilege:`` of each event) with
plain sets of names, independently of the gateway's bitmask code (the data
is shared with the AMI door's matrix, tests/support/permissions.py):

* write: an action may run when its classes share one with the user's
  write classes, or when it has none (``Priv: <none>``);
* read: an event is delivered when every one of its classes is in the
  user's read classes and in the session's event mask.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.access.accounts import Accounts
from gateway.access.identity import Identity
from gateway.config import parse_config
from gateway.core.dispatch import event_mask
from gateway.core.events import EventLog
from gateway.core.sessions import Session
from gateway.errors import PermissionDenied
from tests.support.fixturedata import listcommands_response
from tests.support.permissions import (
    ACTIONS,
    CLASS_SETS,
    DELIBERATE,
    EVENTS,
    MASKS,
    may_read,
    may_run,
    names_of,
    spec,
)


def accounts_for(classes: frozenset[str], side: str, allow_all: bool = False) -> Accounts:
    other = "read" if side == "write" else "write"
    user: dict[str, Any] = {"secret": "x", side: spec(classes), other: "none"}
    if allow_all:  # names every action: the deny-list steps aside, classes stay
        user["actions_allow"] = sorted(ACTIONS)
    users: dict[str, Any] = {"u": user}
    ami = {"username": "gw", "secret": "s"}
    return Accounts(parse_config({"ami": ami, "users": users}, {}).users)


def write_cases() -> list[Any]:
    # A list, not a generator: pytest 9.1+ deprecates iterators in parametrize.
    return [pytest.param(classes, id=spec(classes)) for classes in CLASS_SETS]


def write_mismatches(accounts: Accounts, classes: frozenset[str]) -> list[tuple[str, bool]]:
    """(action, allowed) wherever the gateway differs from manager.conf."""
    user = accounts.user("u")
    assert user is not None
    identity = accounts.identity(user)
    wrong = []
    for action in ACTIONS:
        expected = may_run(action, classes)
        try:
            accounts.check_action(identity, action, [])
            allowed = True
        except PermissionDenied:
            allowed = False
        if allowed != expected:
            wrong.append((action, allowed))
    return wrong


@pytest.mark.parametrize("classes", write_cases())
@pytest.mark.parametrize("learned", [True, False], ids=["listcommands", "builtin"])
def test_write_matrix_is_manager_conf(classes: frozenset[str], learned: bool) -> None:
    accounts = accounts_for(classes, "write", allow_all=True)
    if learned:
        accounts.learn_actions(listcommands_response())
    assert write_mismatches(accounts, classes) == []


@pytest.mark.parametrize("classes", write_cases())
def test_write_matrix_by_default_differs_only_by_refusing_the_deny_list(
    classes: frozenset[str],
) -> None:
    accounts = accounts_for(classes, "write")
    accounts.learn_actions(listcommands_response())
    wrong = write_mismatches(accounts, classes)
    assert all(action in DELIBERATE and not allowed for action, allowed in wrong), wrong
    if "system" in classes:
        assert wrong == [("ModuleLoad", False)]


@pytest.mark.parametrize("classes", write_cases())
def test_read_matrix_over_the_captured_events(classes: frozenset[str]) -> None:
    accounts = accounts_for(classes, "read")
    user = accounts.user("u")
    assert user is not None
    log = EventLog(len(EVENTS) + 1)
    stored = [log.append(event) for event in EVENTS]
    wrong = []
    for mask_text in MASKS:
        mask = event_mask(mask_text)
        assert mask is not None
        session = Session(id="s", key="1", address="192.0.2.1", expires=1e9)
        session.log_in(Identity("u", user.read, user.write))
        session.set_event_mask(mask)
        for event in stored:
            if session.wants(event) != may_read(event.message, classes, mask_text):
                wrong.append((mask_text, event.message.name, event.message.get("Privilege")))
    assert wrong == []


def test_the_matrix_covers_what_it_claims() -> None:
    """Every class appears in some captured action; the events carry the
    classes a reader must never see."""
    used = frozenset().union(*ACTIONS.values())
    assert {"originate", "command", "config", "system", "call", "reporting"} <= used
    assert any(not needs for needs in ACTIONS.values())
    event_classes = {c for e in EVENTS for c in names_of(e.get("Privilege") or "")}
    assert {"call", "security", "cdr", "system", "dialplan"} <= event_classes
