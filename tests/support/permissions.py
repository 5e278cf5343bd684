"""The permission matrix's data, shared by the AJAM matrix
(tests/access/test_permission_matrix.py) and the AMI door's
(tests/amiserver/test_permission_matrix.py): the captured actions with the
classes ListCommands gives them, the captured events with their Privilege,
the class sets and event masks to try, and the expected answers computed with
plain sets of names, independently of the gateway's bitmask code:

* write: an action may run when its classes share one with the user's
  write classes, or when it has none (``Priv: <none>``);
* read: an event is delivered when every one of its classes is in the
  user's read classes and in the session's event mask.
"""

from __future__ import annotations

import re

from gateway.access.classes import CLASS_NAMES
from gateway.ami.message import Message, decode
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
actions_allow names them (docs/deviations.md): stricter, never looser."""


def may_run(action: str, classes: frozenset[str]) -> bool:
    """manager.conf's write rule for one captured action."""
    needs = ACTIONS[action]
    return not needs or bool(needs & classes)


def mask_names(mask_text: str) -> frozenset[str]:
    """The classes an ``EventMask``/``Events`` value of MASKS names."""
    if mask_text == "on":
        return EVERY
    if mask_text == "off":
        return frozenset()
    return names_of(mask_text)


def may_read(event: Message, classes: frozenset[str], mask_text: str) -> bool:
    """manager.conf's read rule for one event, under one of MASKS."""
    needs = names_of(event.get("Privilege") or "")
    return needs <= classes and needs <= mask_names(mask_text)
