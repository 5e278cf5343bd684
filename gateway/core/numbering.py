"""How a ring numbers its events, so that a cursor names one ring only.

A client keeps a cursor (the seq of the last event it saw) across lost
responses, gateway restarts and nginx failovers.  If every boot numbered
from 1, a cursor from before a restart would name some other event of the
new ring: events missed or repeated without notice.  So each boot numbers
from an ``origin`` taken from the wall clock, in one of ``LANES`` lanes:

* the n-th event of a boot is ``origin + n * LANES``, and every number a
  ring hands out (its events' seqs and its origin) is ``origin`` modulo
  ``LANES``: the ring's *lane*, drawn at random at each boot;
* ``origin`` is ``LANE_RATE`` lane steps per second since ``SEQ_EPOCH``, so
  a later boot starts above every number an earlier boot can have reached
  unless that boot averaged more than ``LANE_RATE`` events a second since
  it started (or the wall clock went back between the two boots);
* two instances behind nginx that start together number the same stretch,
  but in different lanes (127 times in 128), so one's cursor is not the
  other's: the ring recognises it as foreign (``EventLog.place``).

Every number stays below 2**53 (``SEQ_LIMIT``) until 2093, so JavaScript,
JSON parsers that read numbers as doubles and 1C hold it exactly.
No clock is read here: the boot's wall time and lane are given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SEQ_EPOCH: Final = 1_767_225_600
"""2026-01-01T00:00:00Z: no gateway booted before it, so seconds before it
would only waste numbers (2**53 lasts 68 years from here, to 2093)."""

LANES: Final = 128
"""Lanes a boot may number in: two instances that start in the same instant
share one with a chance of 1 in 128, and only then can one's cursor pass for
the other's."""

LANE_RATE: Final = 2**15
"""Lane steps per second of wall clock (32,768): a boot's numbers stay below
the next boot's origin while it averages fewer events a second than this,
32 times the 1,000 events/s of a very busy PBX (``events.DEFAULT_RING_SIZE``)."""

SEQ_LIMIT: Final = 2**53
"""The exact integers of a double: JavaScript's numbers, most JSON parsers."""

ORIGIN_LIMIT: Final = SEQ_LIMIT // LANES - 2**36
"""The highest origin, in lane steps: past 2093 every boot starts here, with
room for 2**36 (69 billion) events below ``SEQ_LIMIT``."""


@dataclass(frozen=True, slots=True)
class Numbering:
    """``seq(n) = origin + n * stride`` for a ring's n-th event (n >= 1).

    The default, ``Numbering()``, counts 1, 2, 3 like a plain counter: for
    tools and tests of the ring alone.  The gateway numbers with ``at_boot``.
    """

    origin: int = 0
    stride: int = 1

    @classmethod
    def at_boot(cls, wall: float, lane: int) -> Numbering:
        """A boot's numbering at ``wall`` (Unix seconds), in ``lane`` (0 to LANES - 1)."""
        if not 0 <= lane < LANES:
            raise ValueError(f"lane must be in 0..{LANES - 1}")
        steps = min(max(0, int((wall - SEQ_EPOCH) * LANE_RATE)), ORIGIN_LIMIT)
        return cls(steps * LANES + lane, LANES)

    def seq(self, n: int) -> int:
        """The number of the ring's n-th event (0: its origin, the cursor before all)."""
        return self.origin + n * self.stride

    def index(self, cursor: int) -> int:
        """How many of the ring's events a cursor has passed (0 below the origin)."""
        return max(0, (cursor - self.origin) // self.stride)

    def issued(self, cursor: int) -> bool:
        """Whether this numbering can have handed out ``cursor`` (at or after its origin,
        in its lane); whether the ring did also depends on how far it has got."""
        return cursor >= self.origin and (cursor - self.origin) % self.stride == 0


COUNTING: Final = Numbering()
"""1, 2, 3, ...: the numbering of a ring used alone (tools, tests)."""
