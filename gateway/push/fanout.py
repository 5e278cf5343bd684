"""The fan-out: every new batch of events to every push stream, in one pass.

It consumes the log's batches (``gateway.core.eventpath.EventBatches``: what
the log took in one loop iteration).  For each live stream it asks the
session's own rules what is new past the stream's cursor
(``Session.pending``: read classes, event mask, filters, owner), narrows by
the stream's event names, takes each event's cached shape
(``gateway.push.frames``: rendered once per event, not per stream) and writes
them in one ``transport.write``.  No stream has a task that wakes per event:
one event to N streams is N decisions and N writes, not N task switches and
N renders.  Which streams are open, and whether one more fits the ``[push]``
limits, is ``gateway.push.streamtable``'s.

Memory stays bounded.  A stream's socket gets a kernel send buffer of
``buffer_bytes``; a stream whose transport holds more than ``buffer_bytes``
unread besides, or that would overrun the global send budget
(``gateway.core.sendbudget``) while it already has bytes queued, stops being
written (``LAGGING``); the fan-out's tick resumes it from its cursor once
the client has read it down to a quarter of the bound.  A stream whose
client takes nothing for ``write_timeout`` is aborted.  The tick also sends
the heartbeats and ends streams whose connection is gone.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from gateway.core.cursors import LossReason, lost_notice
from gateway.core.eventpath import EventBatches
from gateway.core.events import EventLog, Placement, StoredEvent
from gateway.core.sendbudget import SendBudget
from gateway.core.sessions import Session
from gateway.core.sessionstore import SessionStore
from gateway.push.settings import PushSettings
from gateway.push.stream import (
    CloseReason,
    KindCounts,
    Stream,
    StreamKind,
    StreamState,
    View,
)
from gateway.push.streamtable import StreamTable

PUMP_EVENTS: Final = 10_000
"""Events one look at the log scans for a stream: a stream catching up on a
long backlog yields the loop between slices of this size."""
TICK: Final = 0.1
"""Seconds between the fan-out's housekeeping passes."""
LAG_TICK: Final = 0.02
"""Seconds between them while a stream lags or a reply waits for its client:
a stream is resumed within this of being read down, so a client that
catches up reads ~``buffer_bytes`` x 3 (its socket's kernel buffer counts
double) every 20 ms, tens of MB/s with the default bound."""
REAP_EVERY: Final = 1.0
"""Seconds between passes over every stream for connections that are gone
(cheap: a flag per stream)."""
OVERRUN: Final = LossReason.OVERRUN
RESUME_SHARE: Final = 4
"""A lagging stream resumes once its transport holds under a quarter of its bound."""


@dataclass(frozen=True, slots=True)
class Look:
    """What one look at the log found for a stream (or for every stream of its view)."""

    lost: int
    data: bytes
    """The one write: notices and events in the stream's shape; empty for none."""
    events: int
    cursor: int


@dataclass(slots=True)
class PushCounts:
    kinds: dict[StreamKind, KindCounts] = field(
        default_factory=lambda: {kind: KindCounts() for kind in StreamKind}
    )
    lost: int = 0
    """Events the ring dropped before a stream read them (reported as GatewayEventsLost)."""
    lagged: int = 0
    """Times a stream stopped being written for a full buffer or budget."""
    refused: Counter[str] = field(default_factory=Counter)
    """Streams refused, by the ``[push]`` limit."""


class Fanout:
    """Every open push stream of one instance."""

    def __init__(
        self,
        *,
        log: EventLog,
        sessions: SessionStore,
        budget: SendBudget,
        settings: PushSettings,
        on_delivery: Callable[[float], None] = lambda seconds: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self._sessions = sessions
        self._budget = budget
        self.settings = settings
        self._clock = clock
        self._on_delivery = on_delivery
        """Told, per batch that reached a stream, the seconds from its first
        event's arrival to the end of the pass (the metrics' histogram)."""
        self.counts = PushCounts()
        self._streams = StreamTable(self.counts.refused)
        self._live: dict[Stream, None] = {}
        self._lagging: dict[Stream, None] = {}
        self._backed: dict[Stream, None] = {}
        """Streams whose transport held bytes at the last look."""
        self._draining = False
        self._next_heartbeat = clock() + settings.heartbeat
        self._next_reap = clock() + REAP_EVERY
        self._mark = log.last_seq
        """The log's end when the last pass began: streams at it are in step."""
        sessions.on_remove(self._session_ended)

    # --- levels, for the metrics ---------------------------------------------

    def open_count(self, kind: StreamKind) -> int:
        return self._streams.count(kind)

    @property
    def lagging_count(self) -> int:
        return len(self._lagging)

    @property
    def queued_bytes(self) -> int:
        return sum(stream.queued for stream in self._backed)

    # --- opening and ending --------------------------------------------------

    def configure(self, settings: PushSettings) -> None:
        """A reload's ``[push]`` (``enabled`` needs a restart)."""
        self.settings = settings
        self._next_heartbeat = min(self._next_heartbeat, self._clock() + settings.heartbeat)

    def admit(self, session: Session, address: str) -> None:
        """Raise unless one more stream of this session and address fits
        (none while draining)."""
        self._streams.admit(self.settings, session, address, closed=self._draining)

    def open(self, stream: Stream) -> None:
        """Count a stream in (``PENDING``): it holds its session meanwhile."""
        sock = stream.transport.get_extra_info("socket")
        if sock is not None:
            # The kernel's send buffer is the stream's too: unbounded, it grew
            # to megabytes for a client that reads nothing (Linux autotunes
            # it up to tcp_wmem), before the transport held a byte.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.settings.buffer_bytes)
        self._streams.add(stream)
        self._sessions.hold(stream.session)
        stream.tally = self.counts.kinds[stream.kind]
        stream.tally.opened += 1

    def start(self, stream: Stream, placement: Placement, opening: bytes = b"") -> None:
        """The stream's session is logged in: events after the placed cursor
        from now on (a foreign one told first).  A stream turns the session's
        events on as its first waitevent would (``Session.enable_events_for_wait``)."""
        stream.session.enable_events_for_wait()
        self._place(stream, placement)
        if opening:
            self.send(stream, opening)
        if stream.state is StreamState.PENDING:
            stream.state = StreamState.LIVE
            self._live[stream] = None
        self._pump(stream)

    def restart(self, stream: Stream, placement: Placement) -> None:
        """Go on after another cursor (a WebSocket's Resume)."""
        self._place(stream, placement)
        if stream.state is StreamState.LIVE:
            self._pump(stream)

    def _place(self, stream: Stream, placement: Placement) -> None:
        stream.cursor = placement.cursor
        stream.missed = LossReason.RESTART if placement.foreign else None

    def end(self, stream: Stream, reason: CloseReason) -> None:
        """Close the stream for ``reason``; its handler wakes and returns."""
        if stream.state is StreamState.CLOSED:
            return
        stream.state = StreamState.CLOSED
        self._streams.remove(stream)
        for group in (self._live, self._lagging, self._backed):
            group.pop(stream, None)
        self._sessions.release(stream.session, self._clock())
        if reason is CloseReason.WRITE_TIMEOUT:
            stream.transport.abort()
        else:
            stream.on_end(stream, reason)
        self._settle(stream)
        self._budget.adjust(-stream.queued)
        stream.queued = 0
        stream.tally.closed[reason] += 1
        self._drained(stream)
        if not stream.done.done():
            stream.done.set_result(reason)

    def _session_ended(self, session: Session) -> None:
        reason = CloseReason.SHUTDOWN if self._draining else CloseReason.SESSION
        for stream in self._streams.of_session(session.key):
            self.end(stream, reason)

    def drain(self) -> int:
        """SIGTERM: end every stream (``shutdown``), refuse new ones; returns how many ended."""
        self._draining = True
        streams = list(self._streams)
        for stream in streams:
            self.end(stream, CloseReason.SHUTDOWN)
        return len(streams)

    # --- writing -------------------------------------------------------------

    def deliver(self, batch: list[StoredEvent]) -> None:
        """One batch of new events (an ``EventBatches`` consumer).

        Streams in step (their cursor where the last pass left the log) whose
        sessions have the same rules see the same events: the first one's
        look (``Session.pending``, the shapes, the one write's bytes) serves
        them all, unless an event of the batch names the session that asked
        for it (an async Originate's OriginateResponse: whether a session
        gets it depends on the session itself, its own or another's, and on
        its user's ``originate_response``).
        """
        log = self._log
        mark, self._mark = self._mark, log.last_seq
        fresh = log.since(mark)[1] if mark < log.last_seq else []
        views: dict[View, Look] | None = {}
        if any(event.owner is not None for event in fresh):
            views = None  # an OriginateResponse: each session decides alone
        for stream in list(self._live):
            alike = views is not None and stream.cursor == mark and stream.missed is None
            view = stream.view() if alike else None
            if view is None or stream.transport.is_closing():
                self._pump(stream)
                continue
            assert views is not None
            look = views.get(view)
            if look is None:
                look = views[view] = self._look(stream)
            if self._put(stream, look) and stream.cursor < log.last_seq:
                self._pump(stream)  # the look was cut: the rest alone
        if batch and self._live:
            self._on_delivery(time.monotonic() - batch[0].received)

    def send(self, stream: Stream, data: bytes) -> bool:
        """Write ``data`` now, whatever the bound (a reply, an opening); False
        once the stream holds more than its bound unread."""
        if stream.state is StreamState.CLOSED or stream.transport.is_closing():
            return False
        self._write(stream, stream.frame([data]))
        self._settle(stream)
        return stream.queued <= self.settings.buffer_bytes

    async def drained(self, stream: Stream) -> None:
        """Until the stream's transport holds under a quarter of its bound, or it ended."""
        if stream.state is StreamState.CLOSED or stream.queued <= self._low():
            return
        waiter = stream.drain_waiter
        if waiter is None:
            waiter = stream.drain_waiter = asyncio.get_running_loop().create_future()
        await waiter

    def _waiting(self) -> bool:
        """A handler waits for a stream's client to read (``drained``)."""
        return any(stream.drain_waiter is not None for stream in self._backed)

    def _low(self) -> int:
        return self.settings.buffer_bytes // RESUME_SHARE

    def _drained(self, stream: Stream) -> None:
        waiter, stream.drain_waiter = stream.drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _write(self, stream: Stream, data: bytes) -> None:
        stream.transport.write(data)
        stream.written += len(data)
        stream.tally.bytes += len(data)

    def _pump(self, stream: Stream) -> None:
        """Write what is new for a live stream, until it is caught up or full."""
        if stream.transport.is_closing():
            self.end(stream, CloseReason.CLIENT)
            return
        log = self._log
        while stream.cursor < log.last_seq:
            if not self._put(stream, self._look(stream)):
                return

    def _look(self, stream: Stream) -> Look:
        """What is new for the stream past its cursor, by its session's rules."""
        log, bound = self._log, self.settings.buffer_bytes
        lost, events, cursor = stream.session.pending(log, PUMP_EVENTS, stream.cursor, bound)
        missed = stream.missed
        told = bool(lost) or missed is not None
        parts = [stream.shape.notice(lost_notice(lost, missed or OVERRUN))] if told else []
        shape = stream.shape.event
        parts += [shape(e) for e in events if stream.wants_name(e)]
        count = len(parts) - told
        return Look(lost, stream.frame(parts) if parts else b"", count, cursor)

    def _put(self, stream: Stream, look: Look) -> bool:
        """Write a look to the stream; False when it must stop (lagging)."""
        data = look.data
        bound = self.settings.buffer_bytes
        if data:
            queued = stream.queued
            if queued and (queued + len(data) > bound or self._budget.room() < len(data)):
                self._lag(stream)  # the cursor stays: these go out once it drains
                return False
            self._write(stream, data)
            self.counts.lost += look.lost
            stream.tally.events += look.events
            stream.missed = None  # told
        stream.cursor = look.cursor
        if self._settle(stream) > bound:
            self._lag(stream)
            return False
        return True

    def _settle(self, stream: Stream) -> int:
        """Count what the stream's transport holds now in the send budget; note
        whether the client took anything.  Returns the bytes held."""
        held = stream.transport.get_write_buffer_size()
        delta = held - stream.queued
        if delta:
            self._budget.adjust(delta)
            stream.queued = held
        sent = stream.written - held
        if not held:
            stream.stuck_since = None
            self._backed.pop(stream, None)
        elif sent > stream.sent or stream.stuck_since is None:
            stream.stuck_since = self._clock()
            if stream.state is not StreamState.CLOSED:
                self._backed[stream] = None
        stream.sent = sent
        return held

    def _lag(self, stream: Stream) -> None:
        self._live.pop(stream, None)
        self._lagging[stream] = None
        stream.state = StreamState.LAGGING
        self.counts.lagged += 1

    # --- housekeeping ----------------------------------------------------------

    def tick(self) -> None:
        """Resume drained streams, abort stuck ones, heartbeats, reap the gone."""
        now = self._clock()
        settings = self.settings
        low = self._low()
        for stream in list(self._backed):
            self._settle(stream)
            stuck = stream.stuck_since
            if stuck is not None and now - stuck >= settings.write_timeout:
                self.end(stream, CloseReason.WRITE_TIMEOUT)
            elif stream.queued <= low:
                self._drained(stream)
        for stream in list(self._lagging):
            if stream.queued <= low:
                del self._lagging[stream]
                stream.state = StreamState.LIVE
                self._live[stream] = None
                self._pump(stream)
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + settings.heartbeat
            for stream in list(self._live):
                self.send(stream, stream.shape.heartbeat)
        if now >= self._next_reap:
            self._next_reap = now + REAP_EVERY
            for stream in [s for s in self._streams if s.transport.is_closing()]:
                self.end(stream, CloseReason.CLIENT)

    async def run(self, batches: EventBatches) -> None:
        """Consume the log's batches and tick until cancelled."""
        batches.subscribe(self.deliver)
        try:
            while True:
                await asyncio.sleep(LAG_TICK if self._lagging or self._waiting() else TICK)
                self.tick()
        finally:
            batches.unsubscribe(self.deliver)
