"""The permission matrix: manager.conf's semantics over the captured actions
and events, for no class, each single class, all, and mixed sets.

The expected answers are computed here from the captures' own text (the
``(Priv: ...)`` of ListCommands, the ``Privilege:`` of each event) with
plain sets of names, independently of the gateway's bitmask code:

* write: an action may run when its classes share one with the user's
  write classes, or when it has none (``Priv: <none>``);
* read: an event is delivered when every one of its classes is in the
  user's read classes and in the session's event mask.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.access.accounts import Accounts
from gateway.access.classes import CLASS_NAMES
from gateway.access.identity import Identity
from gateway.ami.message import Message, decode
from gateway.config import parse_config
from gateway.core.dispatch import event_mask
from gateway.core.events import EventLog
from gateway.core.sessions import Session
from gateway.errors import PermissionDenied
from tests.support.fixturedata import AMI_DIR, ami_recv, listcommands_response

EVERY = frozenset(CLASS_NAMES)
CLASS_SETS: list[frozenset[str]] = [
    frozenset(),
    *(frozenset({name}) for name in CLASS_NAMES),
    EVERY,
    frozenset({"call", "system"}),
    frozenset({"originate", "call"}),
    frozenset({"system", "reporting"}),
    frozenset({"security", "cdr"}),
    frozenset({"command", "config"}),
    frozenset({"agent", "user", "dialplan", "message"}),
]
MASKS = ("on", "off", "call", "system,call", "security,cdr,call")
_PRIV = re.compile(r"\(Priv: ([^)]*)\)\s*$")


def spec(classes: frozenset[str]) -> str:
    if classes == EVERY:
        return "all"
    return ",".join(sorted(classes)) or "none"


def names_of(text: str) -> frozenset[str]:
    """``call,ALL`` -> {call}: ``all`` in a Privilege is a marker, not a class."""
    found = {part.strip().lower() for part in text.split(",")}
    return frozenset(found & EVERY)


def captured_actions() -> dict[str, frozenset[str]]:
    actions = {}
    for name, value in listcommands_response().fields:
        match = _PRIV.search(value)
        if match:
            priv = match.group(1)
            actions[name] = frozenset() if priv == "<none>" else names_of(priv)
    assert len(actions) == 100
    return actions


def captured_events() -> list[Message]:
    """Every distinct (event, Privilege) of every AMI capture."""
    seen: dict[tuple[str, str], Message] = {}
    for path in sorted(AMI_DIR.glob("*.recv")):
        for block in ami_recv(path.stem).split(b"\r\n\r\n"):
            pairs = [ln.partition(": ") for ln in decode(block).split("\r\n")]
            message = Message(tuple((k, v) for k, sep, v in pairs if sep))
            event, privilege = message.get("Event"), message.get("Privilege")
            if event and privilege is not None:
                seen.setdefault((event, privilege), message)
    assert len(seen) >= 20
    return list(seen.values())


SYNTHETIC = [
    Message.of(("Event", "TwoClasses"), ("Privilege", "call,cdr,all")),
    Message.of(("Event", "ThreeClasses"), ("Privilege", "system,call,reporting,all")),
    Message.of(("Event", "NoClass"), ("Privilege", "")),
]
"""Every captured event has one class: these check the 'every class' rule."""


ACTIONS = captured_actions()
EVENTS = captured_events() + SYNTHETIC


DELIBERATE = frozenset({"ModuleLoad"})
"""Refused by the gateway's deny-list of dangerous uses unless the user's
actions_allow names them (README, deviations): stricter, never looser."""


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
    for action, needs in ACTIONS.items():
        expected = not needs or bool(needs & classes)
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
        mask_names = EVERY if mask_text == "on" else frozenset() if mask_text == "off" else None
        if mask_names is None:
            mask_names = names_of(mask_text)
        session = Session(id="s", key="1", address="192.0.2.1", expires=1e9)
        session.log_in(Identity("u", user.read, user.write))
        session.set_event_mask(mask)
        for event in stored:
            needs = names_of(event.message.get("Privilege") or "")
            expected = needs <= classes and needs <= mask_names
            if session.wants(event) != expected:
                wrong.append((mask_text, event.message.name, sorted(needs)))
    assert wrong == []


def test_the_matrix_covers_what_it_claims() -> None:
    """Every class appears in some captured action; the events carry the
    classes a reader must never see."""
    used = frozenset().union(*ACTIONS.values())
    assert {"originate", "command", "config", "system", "call", "reporting"} <= used
    assert any(not needs for needs in ACTIONS.values())
    event_classes = {c for e in EVENTS for c in names_of(e.get("Privilege") or "")}
    assert {"call", "security", "cdr", "system", "dialplan"} <= event_classes
