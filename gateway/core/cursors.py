"""Resuming by cursor: reading a client's cursor, and telling it what it lost.

Every door that resumes a reader (waitevent's ``Cursor``, a push stream's
``Last-Event-ID``, the AMI door) reads the client's number with
``parse_cursor``, places it in the ring with ``EventLog.place`` and, when
events are missing, answers ``lost_notice`` first:

* ``Reason: Overrun``: the cursor is this ring's, but the events after it
  have already left the ring (``[events] ring_size``/``ring_bytes``);
  ``Lost`` counts them exactly.
* ``Reason: Restart``: the ring did not hand the cursor out (it is from
  before this gateway started, from another instance behind nginx, or
  beyond the newest event).  Everything this ring holds follows: after a
  restart that is every event the client has not seen, so nothing the ring
  has is lost and nothing is repeated; after a failover it may repeat what
  the client already read from the other instance (the rings number apart,
  so no position in one names a position in the other).  ``Lost`` counts
  the events this ring itself dropped since it started; the events between
  the client's ring and this one are unknown.
"""

from __future__ import annotations

import enum
import re
from typing import Final

from gateway.ami.message import Message
from gateway.errors import AmiLevelError

_LEADING_INT: Final = re.compile(r"\s*([+-]?)(\d+)")
MAX_DIGITS: Final = 19
"""Digits read of a cursor: more name no seq (all are below 2**53), and
``int()`` of thousands of digits is slow and then refused."""
BEYOND: Final = 10**MAX_DIGITS
"""What a longer cursor reads as: beyond every ring's numbers, so foreign."""


class LossReason(enum.Enum):
    """Why a resumed reader misses events: ``GatewayEventsLost``'s ``Reason``."""

    OVERRUN = "Overrun"
    RESTART = "Restart"


def parse_cursor(text: str) -> int | None:
    """A cursor as Asterisk reads numbers (its leading integer, after blanks):
    None for an empty one ("from where the reader is"); ``Invalid cursor`` else."""
    if not text.strip():
        return None
    match = _LEADING_INT.match(text)
    if match is None:
        raise AmiLevelError("Invalid cursor")
    sign, digits = match.groups()
    value = int(digits) if len(digits) <= MAX_DIGITS else BEYOND
    return -value if sign == "-" else value


def lost_notice(lost: int, reason: LossReason) -> Message:
    """``Event: GatewayEventsLost``: the first event a resumed reader gets when it missed some."""
    return Message.of(
        ("Event", "GatewayEventsLost"),
        ("Privilege", "system,all"),
        ("Lost", str(lost)),
        ("Reason", reason.value),
    )
