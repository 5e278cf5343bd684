"""The shared event log: every event stored once, read by cursor.

One bounded ring holds every event the gateway receives from Asterisk (and
the few it makes itself).  An HTTP session is a cursor into it plus a filter,
so fanning an event out to N sessions copies nothing.  Each event keeps a
small cache of its rendered bytes per output format, so it is rendered at
most once per format however many sessions receive it.

No asyncio here: listeners are plain callables, and the HTTP layer turns a
notification into wake-ups (batched per loop iteration).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, cast

from gateway.access.classes import parse_privilege
from gateway.ami.message import Message

DEFAULT_RING_SIZE: Final = 100_000
"""About 100 s of a very busy PBX (1,000 events/s) and ~100 MB at worst:
long enough for a client to come back after a lost response."""

Listener = Callable[["StoredEvent"], None]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event in the log.  ``fragments`` caches rendered bytes by key."""

    seq: int
    message: Message
    classes: int
    name: str
    owner: str | None = None
    """An internal session key when the event is for one session only."""
    received: float = 0.0
    """``time.monotonic()`` at arrival: the start of its delivery latency."""
    fragments: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def text(self) -> str:
        """The event as AMI text, what legacy regex eventfilters look at."""
        cached = self.fragments.get("text")
        if cached is None:
            cached = self.message.to_wire()
            self.fragments["text"] = cached
        return cached.decode("utf-8", "surrogateescape")


class EventLog:
    """A ring of the last ``capacity`` events with increasing sequence numbers.

    Sequence numbers start at 1; a cursor is the seq of the last event a
    reader has seen (0 before the first).
    """

    def __init__(self, capacity: int = DEFAULT_RING_SIZE) -> None:
        if capacity < 1:
            raise ValueError("ring size must be at least 1")
        self._capacity = capacity
        self._ring: list[StoredEvent | None] = [None] * capacity
        self._last = 0
        self._listeners: list[Listener] = []

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def last_seq(self) -> int:
        return self._last

    @property
    def first_seq(self) -> int:
        """The oldest seq still held (``last_seq + 1`` when empty)."""
        return max(1, self._last - self._capacity + 1)

    def append(self, message: Message, owner: str | None = None) -> StoredEvent:
        self._last += 1
        event = StoredEvent(
            seq=self._last,
            message=message,
            classes=parse_privilege(message.get("Privilege", "") or ""),
            name=message.name.lower(),
            owner=owner,
            received=time.monotonic(),
        )
        self._ring[self._last % self._capacity] = event
        for listener in self._listeners:
            listener(event)
        return event

    def since(self, cursor: int, limit: int | None = None) -> tuple[int, list[StoredEvent]]:
        """Events after ``cursor``, oldest first, and how many were lost.

        ``lost`` counts events after the cursor that the ring already
        dropped.  A cursor in the future (after a restart) reads nothing.
        """
        first = self.first_seq
        start = max(cursor + 1, first)
        lost = max(0, first - (cursor + 1))
        stop = self._last if limit is None else min(self._last, start + limit - 1)
        if stop < start:
            return lost, []
        # Slices, not a per-seq lookup: a first poll after many logins scans
        # thousands of events (the sessions benchmark in bench/README.md).
        # Every slot from first_seq to last_seq holds its event.
        ring, cap = self._ring, self._capacity
        low, high = start % cap, stop % cap
        events = ring[low : high + 1] if low <= high else ring[low:] + ring[: high + 1]
        return lost, cast(list[StoredEvent], events)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)
