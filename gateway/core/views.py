"""A session's view of some extensions' calls (WaitEvent's ``Extension``).

What it admits is ``gateway.core.calls``'s rule, read from the ring's
``CallIndex``; this module applies it to the events a session reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gateway.core.calls import CallIndex
from gateway.core.events import EventLog, StoredEvent


@dataclass(frozen=True, slots=True)
class CallView:
    """The events of the calls of some extensions (``Extension: 101,102``)."""

    extensions: frozenset[str]

    def admits(self, event: StoredEvent, index: CallIndex) -> bool:
        """Whether the event concerns these extensions at its own place in the ring."""
        facts = event.calls
        if facts is None:
            return True
        extensions = self.extensions
        if not facts.parties.isdisjoint(extensions):
            return True
        for linkedid in facts.linkedids:
            trail = index.trail(linkedid)
            if trail is not None and any(
                seq <= event.seq for ext, seq in trail.touched.items() if ext in extensions
            ):
                return True
        return False

    def catch_up(self, event: StoredEvent, log: EventLog) -> list[StoredEvent]:
        """If ``event`` is the first to tie a call to these extensions: the call's
        earlier events still held that the view did not admit on their own."""
        facts = event.calls
        if facts is None or facts.parties.isdisjoint(self.extensions):
            return []
        index, seqs = log.calls, set[int]()
        for linkedid in facts.linkedids:
            trail = index.trail(linkedid)
            assert trail is not None  # a held event's calls are held
            first = min(seq for ext, seq in trail.touched.items() if ext in self.extensions)
            if first == event.seq:
                seqs.update(seq for seq in trail.seqs if seq < first)
        earlier = (log.get(seq) for seq in sorted(seqs))
        return [e for e in earlier if e is not None and not self.admits(e, index)]

    def select(
        self,
        log: EventLog,
        events: list[StoredEvent],
        cursor: int,
        max_bytes: int | None,
        readable: Callable[[StoredEvent], bool],
    ) -> tuple[list[StoredEvent], int]:
        """Of a session's readable ``events`` (oldest first, ``cursor`` after the
        last), those the view admits, each call's catch-up (the ``readable``
        ones) just before the event that ties it to the view; and the cursor.

        A cut at ``max_bytes`` falls between such blocks, so the cursor (then
        the last event kept) never splits one; the first block always goes.
        """
        kept: list[StoredEvent] = []
        size = 0
        for event in events:
            if not self.admits(event, log.calls):
                continue
            block = [e for e in self.catch_up(event, log) if readable(e)]
            block.append(event)
            more = sum(e.wire_size for e in block)
            if max_bytes is not None and kept and size + more > max_bytes:
                return kept, kept[-1].seq
            kept += block
            size += more
        return kept, cursor
