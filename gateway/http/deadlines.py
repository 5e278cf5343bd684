"""How long an HTTP connection may take before it must have made progress.

The sans-I/O clock of one connection: the shell
(``gateway.http.server.GatewayProtocol``) tells it what happened and when
(``now`` is the loop's clock); it says which deadline runs and, when it has
passed, how the connection ends.  Modelled on HAProxy's ``timeout
http-request`` / ``http-keep-alive`` and nginx's ``client_header_timeout`` /
``keepalive_timeout`` / ``client_body_timeout``.

Phases and their deadlines (``Timeouts``):

* ``NEW``: connected, not a whole request head yet.  The head must be
  complete ``header`` seconds after the connect: a silent socket and one that
  trickles a byte every few seconds are cut alike.
* ``IDLE``: the previous response went out, not a byte of the next request
  came: the first byte must come within ``keepalive``.
* ``HEAD``: a kept-alive connection got the first bytes of a request: its
  head must be complete ``header`` seconds after that first byte.
* ``BODY``: the head is parsed, its body is still arriving: the whole body
  within ``body`` seconds of the head (a deadline for the whole body, like
  HAProxy's, not nginx's per read: a trickle must not hold a connection for
  ever).  It is still ``BODY`` after an early response while the server
  reads and discards the rest.
* ``BUSY``: the handler has the whole request.  No deadline: a held
  waitevent or a synchronous Originate is work, not idleness.

When a deadline passes (``expired``): a connection that had sent part of a
request gets ``408 Request Timeout`` first (HAProxy does; a client learns
why), one that had sent nothing of it is closed without a word (nginx and
HAProxy do: a 408 on an idle kept-alive connection would be read as the
answer to the client's next request).

Bytes that arrive while the handler is busy belong to the next, pipelined
request; its head is timed from them once the response is out.  Bytes that
arrive in the same read as the end of a body cannot be told apart from the
body here; such a head waits at most ``keepalive`` instead of ``header``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final


class Phase(enum.Enum):
    NEW = "new"
    IDLE = "idle"
    HEAD = "head"
    BODY = "body"
    BUSY = "busy"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds; ``[limits]`` header_timeout, keepalive_timeout and body_timeout."""

    header: float
    keepalive: float
    body: float


@dataclass(frozen=True, slots=True)
class Expired:
    """How a connection ends when its deadline has passed."""

    timeout: str
    """The ``[limits]`` key that ran out (for logs and metrics)."""
    answer: bool
    """Answer ``408 Request Timeout`` before closing."""


HEADER: Final = "header_timeout"
KEEPALIVE: Final = "keepalive_timeout"
BODY: Final = "body_timeout"


class ConnectionClock:
    """The deadline of one connection, moved by what the shell reports."""

    __slots__ = ("_answered", "_bytes", "_next_head", "deadline", "phase", "timeouts")

    def __init__(self, timeouts: Timeouts, now: float) -> None:
        self.timeouts = timeouts
        self.phase = Phase.NEW
        self.deadline: float | None = now + timeouts.header
        """When the current phase runs out; None while ``BUSY``."""
        self._bytes = False
        """Some bytes of the current request head came (``NEW``)."""
        self._next_head: float | None = None
        """First byte after the current request's body (pipelining)."""
        self._answered = False
        """The current request's response is out (``BODY``: its rest is discarded)."""

    def received(self, now: float) -> None:
        """Bytes came from the client."""
        phase = self.phase
        if phase is Phase.NEW:
            self._bytes = True
        elif phase is Phase.IDLE:
            self._enter(Phase.HEAD, now + self.timeouts.header)
        elif phase is Phase.BUSY and self._next_head is None:
            self._next_head = now

    def request(self, now: float, body_complete: bool) -> None:
        """A request's head was parsed and handed to its handler."""
        self._next_head = None
        self._answered = False
        if body_complete:
            self._enter(Phase.BUSY, None)
        else:
            self._enter(Phase.BODY, now + self.timeouts.body)

    def body_complete(self, now: float) -> None:
        """The last byte of the current request's body came."""
        if self.phase is not Phase.BODY:
            return
        if self._answered:
            self._wait_for_next(now)
        else:
            self._enter(Phase.BUSY, None)

    def responded(self, now: float) -> None:
        """The current request's response is written."""
        if self.phase is Phase.BODY:
            self._answered = True  # its body is read and discarded until its deadline
        elif self.phase is Phase.BUSY:
            self._wait_for_next(now)

    def expired(self, now: float) -> Expired | None:
        """What to do at ``now``: None while the deadline is ahead (or absent)."""
        if self.deadline is None or now < self.deadline:
            return None
        phase = self.phase
        if phase is Phase.IDLE:
            return Expired(KEEPALIVE, answer=False)
        if phase is Phase.BODY:
            return Expired(BODY, answer=not self._answered)
        return Expired(HEADER, answer=phase is Phase.HEAD or self._bytes)

    def _wait_for_next(self, now: float) -> None:
        if self._next_head is not None:
            self._enter(Phase.HEAD, self._next_head + self.timeouts.header)
        else:
            self._enter(Phase.IDLE, now + self.timeouts.keepalive)

    def _enter(self, phase: Phase, deadline: float | None) -> None:
        self.phase = phase
        self.deadline = deadline
