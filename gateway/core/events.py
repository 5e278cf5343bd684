"""The shared event log: every event stored once, read by cursor.

One bounded ring holds every event the gateway receives from Asterisk (and
the few it makes itself).  An HTTP session is a cursor into it plus a filter,
so fanning an event out to N sessions copies nothing.  Each event keeps a
small cache of its rendered bytes per output format, so it is rendered at
most once per format however many sessions receive it.

The ring is bounded twice: by count (``ring_size``) and by bytes
(``ring_bytes``); whichever is reached first evicts the oldest events.  An
event's bytes are counted honestly: its wire bytes, its decoded names and
values, the Python objects around them (``EVENT_OVERHEAD``,
``FIELD_OVERHEAD``, measured with tracemalloc) and every rendered fragment
cached on it while it is in the ring.  The newest event always stays, so one
event larger than ``ring_bytes`` (the AMI parser caps it at 1 MiB) is still
delivered.

No asyncio here: listeners are plain callables, and the HTTP layer turns a
notification into wake-ups (batched per loop iteration).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, cast

from gateway.access.classes import parse_privilege
from gateway.ami.message import Message
from gateway.core.calls import CallFacts, CallIndex
from gateway.core.numbering import COUNTING, Numbering

DEFAULT_RING_SIZE: Final = 100_000
"""About 100 s of a very busy PBX (1,000 events/s) and ~100 MB at worst:
long enough for a client to come back after a lost response."""

DEFAULT_RING_BYTES: Final = 64 * 1024 * 1024
"""64 MiB: ~100,000 ordinary events (~600 bytes counted each) or ~250 of the
120 KB UserEvents of issue 11; the count bound stays the usual one."""

EVENT_OVERHEAD: Final = 480
"""Bytes of Python objects per event besides its fields: the StoredEvent (its
ints included), the Message, the empty fragment cache, the lower-cased name.
tracemalloc measured 440 per parsed ASCII event and up to ~451 for other
text (tests/core/test_event_budgets.py checks the count against it), rounded up."""

FIELD_OVERHEAD: Final = 162
"""Bytes per (name, value) field besides their characters: the pair tuple
(56), its slot in the fields tuple (8) and two str headers (49 each), as
tracemalloc measured for 4 to 124 fields."""

FRAGMENT_OVERHEAD: Final = 72
"""Bytes per cached fragment besides its length: the bytes header (33) and
the fragment dict's growth (tracemalloc: 68)."""

FRAGMENT_KEYS: Final = 6
"""Cached renderings per event: rawman, json, html, the filters' text and two
mxml variants.  mxml's key holds the client's ``ajaxdest``/``ajaxobjtype``,
so without a cap one client could store any number of copies per event; a
further key is rendered for its answer only."""

PUSH_KEYS: Final = frozenset({"sse", "ws"})
"""The push streams' shapes (an SSE message, a WebSocket frame): always
cached, beside the ``FRAGMENT_KEYS`` others, so no client's choice of mxml
keys can make every stream render each event again."""

_EMPTY_STR: Final = sys.getsizeof("")

Listener = Callable[["StoredEvent"], None]


def message_cost(message: Message) -> int:
    """The bytes an event's message holds, as ``EVENT_OVERHEAD`` and
    ``FIELD_OVERHEAD`` describe them.

    ASCII wire bytes decode to one byte per character, so the wire length
    bounds the characters; any other text may take 2 or 4 bytes a character
    (a single emoji widens the whole string), so it is measured.
    """
    raw, fields = message.raw, message.fields
    if raw and raw.isascii():
        text = len(raw)
    else:
        size = sys.getsizeof
        text = sum(size(name) + size(value) for name, value in fields) - 2 * _EMPTY_STR * len(
            fields
        )
    return len(raw) + text + FIELD_OVERHEAD * len(fields) + EVENT_OVERHEAD


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a client's cursor puts a reader (``EventLog.place``)."""

    cursor: int
    foreign: bool
    """The ring did not hand the cursor out: it is from before this boot (a
    restart), from another instance, or beyond the newest event."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event in the log.  ``fragments`` caches rendered bytes by key."""

    seq: int
    message: Message
    classes: int
    name: str
    owner: str | None = None
    """The internal key of the session whose async Originate this event
    answers (its OriginateResponse)."""
    private: bool = False
    """For the owner alone (the late result of a sync Originate)."""
    calls: CallFacts | None = None
    """Its calls and the extensions it names (None: no channel, no call)."""
    received: float = 0.0
    """``time.monotonic()`` at arrival: the start of its delivery latency."""
    cost: int = 0
    """Bytes counted against ``ring_bytes`` at append (``message_cost``)."""
    end: int = 0
    """Wire bytes of every event appended up to this one: the wire bytes of a
    run of events is a subtraction, so a poll's ``reply_bytes`` check is O(1)
    unless the run is too big."""
    log: EventLog | None = field(default=None, compare=False, repr=False)
    """The ring that counts the fragments cached on this event."""
    fragments: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def wire(self) -> bytes:
        """The event's AMI bytes, closing blank line included: what an AMI
        client is sent, made once however many receive it."""
        cached = self.fragments.get("text")
        if cached is None:
            cached = self.remember("text", self.message.to_wire())
        return cached

    @property
    def text(self) -> str:
        """The event as AMI text, what legacy regex eventfilters look at."""
        return self.wire.decode("utf-8", "surrogateescape")

    @property
    def wire_size(self) -> int:
        """Bytes of the event as AMI text: what ``reply_bytes`` counts."""
        raw = self.message.raw
        return len(raw) + 2 if raw else len(self.message.to_wire())

    def remember(self, key: str, data: bytes) -> bytes:
        """Cache a rendering (at most ``FRAGMENT_KEYS``, and the ``PUSH_KEYS``),
        counted by the ring."""
        fragments = self.fragments
        if key in fragments:
            return data
        pushed = sum(key in fragments for key in PUSH_KEYS)
        if key in PUSH_KEYS or len(fragments) - pushed < FRAGMENT_KEYS:
            fragments[key] = data
            if self.log is not None:
                self.log.charge(self, len(data) + FRAGMENT_OVERHEAD)
        return data

    def held_bytes(self) -> int:
        """``cost`` plus the fragments cached so far."""
        fragments = self.fragments
        if not fragments:
            return self.cost
        return self.cost + sum(map(len, fragments.values())) + FRAGMENT_OVERHEAD * len(fragments)


class EventLog:
    """A ring of the last events, at most ``capacity`` of them and about
    ``max_bytes`` (the newest one always stays), with increasing sequence
    numbers.

    The n-th event appended is numbered ``numbering.seq(n)``: 1, 2, 3 by
    default, a boot's own numbers in the gateway (``gateway.core.numbering``).
    A cursor is the seq of the last event a reader has seen, or the ring's
    ``origin`` before the first.  Every append is O(1) amortised: each event
    is evicted once.
    """

    def __init__(
        self,
        capacity: int = DEFAULT_RING_SIZE,
        max_bytes: int = DEFAULT_RING_BYTES,
        numbering: Numbering = COUNTING,
    ) -> None:
        if capacity < 1:
            raise ValueError("ring size must be at least 1")
        if max_bytes < 1:
            raise ValueError("ring bytes must be at least 1")
        self._capacity = capacity
        self.max_bytes = max_bytes
        self.numbering = numbering
        self._ring: list[StoredEvent | None] = [None] * capacity
        # Positions (the n of numbering.seq(n)) of the oldest and newest held.
        self._first = 1
        self._last = 0
        self._last_seq = numbering.origin
        self._bytes = 0
        self._wire = 0
        self.evicted_by_count = 0
        self.evicted_by_bytes = 0
        self._listeners: list[Listener] = []
        self.calls = CallIndex()
        """The calls of the events held: what per-extension views read."""

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def origin(self) -> int:
        """The cursor before this ring's first event."""
        return self.numbering.origin

    @property
    def last_seq(self) -> int:
        """The newest event's seq (``origin`` before the first)."""
        return self._last_seq

    @property
    def first_seq(self) -> int:
        """The oldest seq still held (the next event's when empty)."""
        return self.numbering.seq(self._first)

    @property
    def floor(self) -> int:
        """The cursor just before the oldest event held: reading from it loses nothing
        the ring still has."""
        return self.numbering.seq(self._first - 1)

    @property
    def held_bytes(self) -> int:
        """Bytes counted for the events held now."""
        return self._bytes

    @property
    def held(self) -> int:
        """Events held now."""
        return self._last - self._first + 1

    def count(self, after: int, upto: int) -> int:
        """Events numbered after cursor ``after`` up to ``upto`` (both this ring's)."""
        numbering = self.numbering
        return numbering.index(upto) - numbering.index(after)

    def append(
        self, message: Message, owner: str | None = None, *, private: bool = False
    ) -> StoredEvent:
        position = self._last + 1
        seq = self.numbering.seq(position)
        raw = message.raw
        self._wire += len(raw) + 2 if raw else len(message.to_wire())
        event = StoredEvent(
            seq=seq,
            message=message,
            classes=parse_privilege(message.get("Privilege", "") or ""),
            name=message.name.lower(),
            owner=owner,
            private=private,
            calls=self.calls.facts(message),
            received=time.monotonic(),
            cost=message_cost(message),
            end=self._wire,
            log=self,
        )
        if position - self._first >= self._capacity:  # the slot is the oldest event's
            self._evict()
            self.evicted_by_count += 1
        self._ring[position % self._capacity] = event
        self._last = position
        self._last_seq = seq
        self._bytes += event.cost
        self._trim()
        self.calls.record(seq, event.calls, self.first_seq)
        for listener in self._listeners:
            listener(event)
        return event

    def charge(self, event: StoredEvent, nbytes: int) -> None:
        """Count bytes cached on ``event`` later (a rendered fragment), if it
        is still held; the oldest events make room."""
        if event.seq >= self.first_seq:
            self._bytes += nbytes
            self._trim()

    def _trim(self) -> None:
        while self._bytes > self.max_bytes and self._last > self._first:
            self._evict()
            self.evicted_by_bytes += 1

    def _evict(self) -> None:
        slot = self._first % self._capacity
        event = cast(StoredEvent, self._ring[slot])
        self._ring[slot] = None
        self._bytes -= event.held_bytes()
        self._first += 1

    def get(self, seq: int) -> StoredEvent | None:
        """The held event numbered ``seq``, if any."""
        numbering = self.numbering
        position = numbering.index(seq)
        if not (numbering.issued(seq) and self._first <= position <= self._last):
            return None
        return self._ring[position % self._capacity]

    def place(self, cursor: int) -> Placement:
        """Where a client's cursor puts a reader: its own place if this ring
        handed it out, else (``foreign``) before everything the ring holds.

        A cursor of 0 or below asks for everything held, and is not foreign.
        """
        if cursor <= 0:
            return Placement(self.origin, foreign=False)
        if self.numbering.issued(cursor) and cursor <= self._last_seq:
            return Placement(cursor, foreign=False)
        return Placement(self.origin, foreign=True)

    def since(self, cursor: int, limit: int | None = None) -> tuple[int, list[StoredEvent]]:
        """Events after ``cursor``, oldest first, and how many were lost.

        ``lost`` counts events after the cursor that the ring already
        dropped.  A cursor after the last event reads nothing; one before the
        origin reads from the first event (``place`` tells such cursors apart).
        """
        first = self._first
        after = self.numbering.index(cursor)
        start = max(after + 1, first)
        lost = max(0, first - (after + 1))
        stop = self._last if limit is None else min(self._last, start + limit - 1)
        if stop < start:
            return lost, []
        # Slices, not a per-seq lookup: a first poll after many logins scans
        # thousands of events (the sessions benchmark in bench/README.md).
        # Every slot from the first position to the last holds its event.
        ring, cap = self._ring, self._capacity
        low, high = start % cap, stop % cap
        events = ring[low : high + 1] if low <= high else ring[low:] + ring[: high + 1]
        return lost, cast(list[StoredEvent], events)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)
