"""One push stream: a session's view of the log, written to one transport.

A stream is data the fan-out (``gateway.push.fanout``) drives; it never
waits on anything itself.  Its cursor is its own, apart from the session's
(which the session's long polls move), so a stream and a waitevent on one
session never disturb each other; both read through ``Session.pending``,
so the same rules decide what each may see.

States (``StreamState``):

* ``PENDING``: open, no logged-in session yet (a WebSocket before its
  Login frame); counted against the limits, written nothing but replies.
* ``LIVE``: written by every batch of new events, straight to its transport.
* ``LAGGING``: its transport holds more than ``[push] buffer_bytes`` unread
  (or the global send budget has no room): not written; once the client has
  read it down it goes on from its cursor (``GatewayEventsLost`` first if
  the ring dropped what it had not read yet).
* ``CLOSED``: ended for a ``CloseReason``; its handler returns.
"""

from __future__ import annotations

import asyncio
import enum
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from gateway.ami.message import Message
from gateway.core.cursors import LossReason
from gateway.core.events import StoredEvent
from gateway.core.sessions import Session
from gateway.push import frames


class StreamKind(enum.Enum):
    SSE = "sse"
    WS = "ws"


class StreamState(enum.Enum):
    PENDING = "pending"
    LIVE = "live"
    LAGGING = "lagging"
    CLOSED = "closed"


class CloseReason(enum.Enum):
    """Why a stream ended (the ``reason`` label of ``ajam_push_streams_closed_total``)."""

    CLIENT = "client"
    """The client closed it, or the connection broke."""
    SESSION = "session"
    """Its session ended: Logoff, expiry, a reload that removed its user."""
    SHUTDOWN = "shutdown"
    """The gateway is draining (SIGTERM)."""
    WRITE_TIMEOUT = "write_timeout"
    """The client read nothing of what was written for ``[push] write_timeout``."""
    BAD_FRAMES = "bad_frames"
    """A WebSocket client sent more than ``[push] max_bad_frames`` frames that were not actions."""
    LOGIN_TIMEOUT = "login_timeout"
    """A WebSocket was not logged in within ``[http] unauth_timeout``."""


@dataclass(frozen=True, slots=True, eq=False)
class Shape:
    """How one kind of stream writes an event, a notice and a heartbeat
    (compared and hashed by identity: there is one per kind)."""

    event: Callable[[StoredEvent], bytes]
    notice: Callable[[Message], bytes]
    heartbeat: bytes


SHAPES: Final = {
    StreamKind.SSE: Shape(frames.sse_event, frames.sse_notice, frames.SSE_HEARTBEAT),
    StreamKind.WS: Shape(frames.ws_event, frames.ws_notice, frames.WS_PING),
}


@dataclass(slots=True)
class KindCounts:
    """Counters of one kind of stream (``Fanout.counts``, read by ``gateway.push.metrics``)."""

    opened: int = 0
    events: int = 0
    """Events written (one per stream that got it)."""
    bytes: int = 0
    """Bytes written: events, notices, heartbeats and replies."""
    closed: Counter[CloseReason] = field(default_factory=Counter)


View = tuple[int, int, int, int, int, frozenset[str] | None, Shape, bool]
"""What decides the bytes a stream gets from a slice of the log, besides the
owner of an event: its user's read classes and eventfilter ceiling, its
session's event mask, own filter and per-extension view, its event names,
its kind and framing."""


class Stream:
    """One open stream.  Its fields are the fan-out's to change."""

    __slots__ = (
        "address",
        "chunked",
        "cursor",
        "done",
        "drain_waiter",
        "kind",
        "missed",
        "names",
        "on_end",
        "queued",
        "sent",
        "session",
        "shape",
        "state",
        "stuck_since",
        "tally",
        "transport",
        "written",
    )

    def __init__(
        self,
        kind: StreamKind,
        session: Session,
        address: str,
        transport: asyncio.Transport,
        *,
        names: frozenset[str] | None = None,
        chunked: bool = False,
        on_end: Callable[[Stream, CloseReason], None] = lambda stream, reason: None,
    ) -> None:
        self.kind = kind
        self.shape = SHAPES[kind]
        self.session = session
        self.address = address
        self.transport = transport
        self.names = names
        """Lower-cased event names this stream narrows to (``events=``), or all."""
        self.chunked = chunked
        """An SSE response in HTTP/1.1 chunks (HTTP/1.0 has none)."""
        self.on_end = on_end
        """The handler's part of ending: a last message, a close frame."""
        self.state = StreamState.PENDING
        self.cursor = 0
        """The seq of the last event this stream looked at."""
        self.missed: LossReason | None = None
        """A loss to tell before anything else: its client's cursor was foreign
        (``LossReason.RESTART``, ``gateway.core.cursors``)."""
        self.queued = 0
        """Bytes its transport held at the last look (counted in the send budget)."""
        self.written = 0
        """Bytes written to its transport, ever."""
        self.sent = 0
        """Of those, the bytes the kernel had taken at the last look."""
        self.stuck_since: float | None = None
        """Since when the client has read nothing of what it was sent, if so."""
        self.tally = KindCounts()
        """Its kind's counters (the fan-out's, from ``Fanout.open`` on)."""
        self.done: asyncio.Future[CloseReason] = asyncio.get_running_loop().create_future()
        self.drain_waiter: asyncio.Future[None] | None = None
        """Someone waits for its transport to be read down (a WebSocket's
        next frame, after a reply the client did not read)."""

    def __repr__(self) -> str:
        return (
            f"Stream({self.kind.value}, {self.session!r}, {self.state.value}, cursor={self.cursor})"
        )

    def frame(self, parts: list[bytes]) -> bytes:
        """One write of ``parts``: one HTTP chunk for a chunked SSE response."""
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        return frames.chunk(data) if self.chunked else data

    def view(self) -> View | None:
        """Streams of one view get the same bytes for the same slice (``Fanout.deliver``)."""
        session = self.session
        identity = session.identity
        if identity is None:
            return None
        return (
            identity.read,
            id(identity.event_filter),
            session.send_events,
            id(session.event_filter),
            id(session.view),
            self.names,
            self.shape,  # (hashed by identity: an enum member hashes in Python)
            self.chunked,
        )

    def wants_name(self, event: StoredEvent) -> bool:
        names = self.names
        return names is None or event.name in names
