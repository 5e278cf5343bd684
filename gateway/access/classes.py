"""Manager permission classes (manager.conf's read= and write=) as bitmasks.

Asterisk checks event delivery and action rights with class bitmasks; so do
we, before any regex, because a bit test is the cheapest filter there is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

CLASS_NAMES: Final[tuple[str, ...]] = (
    "system",
    "call",
    "log",
    "verbose",
    "command",
    "agent",
    "user",
    "config",
    "dtmf",
    "reporting",
    "cdr",
    "dialplan",
    "originate",
    "agi",
    "cc",
    "aoc",
    "test",
    "security",
    "message",
)
"""Order fixes each class's bit; it never changes within a process."""

CLASS_BITS: Final[dict[str, int]] = {name: 1 << i for i, name in enumerate(CLASS_NAMES)}
ALL: Final = (1 << len(CLASS_NAMES)) - 1
NONE: Final = 0


def parse_classes(spec: str | Iterable[str]) -> int:
    """``"call,system"`` or ``["call", "system"]`` to a bitmask.

    ``all`` means every class and ``none`` (or an empty spec) none, as in
    manager.conf.  Unknown names raise ``ValueError`` naming the class, so a
    typo in a config never silently grants or withholds a right.
    """
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    mask = NONE
    for raw in names:
        name = raw.strip().lower()
        if not name or name == "none":
            continue
        if name == "all":
            mask |= ALL
            continue
        bit = CLASS_BITS.get(name)
        if bit is None:
            raise ValueError(f"unknown permission class {raw.strip()!r}")
        mask |= bit
    return mask


def parse_privilege(value: str) -> int:
    """An event's ``Privilege:`` header to its class bitmask.

    ``all`` inside a Privilege header is a marker, not a class: Asterisk
    appends it to every event, so it adds no bit.  Unknown names are ignored,
    because a newer Asterisk may add classes.
    """
    mask = NONE
    for raw in value.split(","):
        mask |= CLASS_BITS.get(raw.strip().lower(), NONE)
    return mask


def format_classes(mask: int) -> str:
    """A bitmask back to manager.conf's text, for check-config and logs."""
    if mask == ALL:
        return "all"
    names = [name for name in CLASS_NAMES if mask & CLASS_BITS[name]]
    return ",".join(names) if names else "none"
