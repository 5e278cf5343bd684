"""How Asterisk reads a header value: the gateway decides as Asterisk will.

Every rule here is a fact of Asterisk 22's C code, restated (never copied):

* ``astman_get_header`` (main/manager.c): the FIRST header whose name
  matches case-insensitively, its value after ``ast_skip_blanks``, which
  skips leading bytes below 33 (controls and space) and nothing at the end;
  a missing header reads as "".
* ``process_message`` (main/manager.c) reads the action with
  ``GET_HEADER_SKIP_EMPTY``: the first ``Action`` header whose value is not
  empty once past its blanks.  It compares the name whole (``strcasecmp``),
  for the three actions allowed before login and in ``action_find``: a
  blank at its end makes ``Ping `` an unknown command.  Every action handler
  echoes the first ``ActionID`` as ``astman_get_header`` reads it, and none
  when that is empty.
* ``ast_true`` / ``ast_false`` (main/utils.c): ``strcasecmp`` against
  yes/true/y/t/1/on and no/false/n/f/0/off; case folding is ASCII only (the
  C locale Asterisk runs in), and nothing is trimmed: ``"true "`` is neither.
* ``strings_to_mask`` (main/manager.c, for ``Events`` on Login and
  ``EventMask`` on the Events action): "" is -1 (invalid); all ASCII digits
  are ``atoi``; then ``ast_false`` gives 0, ``ast_true`` every flag, and
  anything else ``get_perm``: each class whose label ``ast_instring`` finds
  in the comma list.  ``ast_instring`` compares an item before a comma with
  ``strncmp(item, label, len(item))``, so "sys," names system and an empty
  item names every label; the last item must equal a label (case-sensitive).

Masks come back as Asterisk's ``int`` (EVENT_FLAG_* bits, 32-bit wrap);
``event_classes`` maps them to the gateway's class bits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from gateway.access.classes import CLASS_BITS
from gateway.ami.message import Field

_TRUE: Final = frozenset({"yes", "true", "y", "t", "1", "on"})
_FALSE: Final = frozenset({"no", "false", "n", "f", "0", "off"})
_ASCII_LOWER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_BLANKS: Final = "".join(chr(c) for c in range(1, 33))
"""What ast_skip_blanks skips (NUL never reaches AMI: the codec refuses it)."""

INT_MAX: Final = 2**31 - 1
LONG_MAX: Final = 2**63 - 1
"""atoi is (int)strtol: strtol clamps at LONG_MAX (64-bit Linux), the cast wraps."""

EVENT_FLAGS: Final[tuple[tuple[str, int], ...]] = (
    ("system", 1 << 0),
    ("call", 1 << 1),
    ("log", 1 << 2),
    ("verbose", 1 << 3),
    ("command", 1 << 4),
    ("agent", 1 << 5),
    ("user", 1 << 6),
    ("config", 1 << 7),
    ("dtmf", 1 << 8),
    ("reporting", 1 << 9),
    ("cdr", 1 << 10),
    ("dialplan", 1 << 11),
    ("originate", 1 << 12),
    ("agi", 1 << 13),
    ("cc", 1 << 15),
    ("aoc", 1 << 16),
    ("test", 1 << 17),
    ("security", 1 << 18),
    ("message", 1 << 30),
    ("all", INT_MAX),
    ("none", 0),
)
"""manager.c's ``perms`` table (labels and include/asterisk/manager.h bits), in
its order; bit 14 is hookresponse, which has no label."""


def ascii_lower(text: str) -> str:
    """Lower case as ``strcasecmp`` in the C locale: A-Z only."""
    return text.translate(_ASCII_LOWER)


def skip_blanks(value: str) -> str:
    """``ast_skip_blanks``: leading bytes below 33 removed, the end kept."""
    return value.lstrip(_BLANKS)


def header_value(fields: Iterable[Field], name: str) -> str:
    """``astman_get_header``: the first ``name`` (ASCII case-insensitive),
    leading blanks skipped; "" when absent."""
    wanted = ascii_lower(name)
    for key, value in fields:
        if ascii_lower(key) == wanted:
            return skip_blanks(value)
    return ""


def action_name(fields: Iterable[Field]) -> str:
    """The action Asterisk runs: the first ``Action`` value that is not empty
    past its leading blanks (its end kept); "" when there is none."""
    for key, value in fields:
        if ascii_lower(key) == "action":
            name = skip_blanks(value)
            if name:
                return name
    return ""


def as_asterisk_reads(fields: Sequence[Field]) -> list[Field]:
    """The fields with the two headers every action shares as Asterisk reads
    them: the ``Action`` that ``action_name`` finds, alone and past its
    blanks (an empty one before it, or any after it, is read by nobody), and
    the first ``ActionID`` past its blanks.  What Asterisk does with the
    action is unchanged; what the gateway reads of it (its owner, a sync
    Originate, the ActionID it echoes) is now the same."""
    name = action_name(fields)
    out: list[Field] = []
    kept_action = False
    first_id = True
    for key, value in fields:
        lowered = ascii_lower(key)
        if lowered == "action":
            if not kept_action and skip_blanks(value):
                out.append((key, name))
                kept_action = True
            continue
        if lowered == "actionid" and first_id:
            first_id = False
            value = skip_blanks(value)
        out.append((key, value))
    return out


def ast_true(value: str) -> bool:
    return ascii_lower(value) in _TRUE


def ast_false(value: str) -> bool:
    return ascii_lower(value) in _FALSE


def _atoi(digits: str) -> int:
    """glibc's atoi of ASCII digits: strtol's clamp, then the cast to int."""
    significant = digits.lstrip("0")
    number = LONG_MAX if len(significant) > 19 else min(int(significant or "0"), LONG_MAX)
    number &= 0xFFFFFFFF
    return number - 2**32 if number > INT_MAX else number


def _instring(items: str, label: str) -> bool:
    """``ast_instring(items, label, ',')``."""
    start = 0
    while True:
        comma = items.find(",", start)
        if comma < 0:
            return items[start:] == label
        item = items[start:comma]
        if label[: len(item)] == item:  # strncmp(item, label, len(item)) == 0
            return True
        start = comma + 1
        if start == len(items):
            return False


def strings_to_mask(value: str) -> int:
    """The mask Asterisk takes from ``value`` (already past skip_blanks)."""
    if not value:
        return -1
    if value.isascii() and value.isdigit():
        return _atoi(value)
    if ast_false(value):
        return 0
    if ast_true(value):
        return INT_MAX
    mask = 0
    for label, bit in EVENT_FLAGS:
        if _instring(value, label):
            mask |= bit
    return mask


def event_classes(mask: int) -> int:
    """Asterisk's EVENT_FLAG bits to the gateway's class bits."""
    classes = 0
    for label, bit in EVENT_FLAGS[:-2]:
        if mask & bit:
            classes |= CLASS_BITS[label]
    return classes
