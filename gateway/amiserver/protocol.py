"""The AMI door's wire, sans-I/O: a client's bytes in, requests out; answers
and events in, bytes out.  One ``ServerProtocol`` per connection.

What a client sees, as Asterisk 22 writes it (``main/manager.c``; the ``ami/``
captures are the truth):

* On connect, the banner line and nothing else (no blank line after it).
* Input is read by Asterisk's rules (``gateway.ami.actionreader``).  A
  message it refuses is answered here, nothing runs: ``Too many lines in
  message or allocation failure``, ``Failed to parse message: line too
  long`` and, for a bare CR or a NUL, the gateway's ``Invalid character in
  request`` (D5).  Every other message, a blank line alone included, is a
  ``Run`` for the dispatcher, which answers ``Missing action in request``,
  ``Permission denied`` and the rest as the AJAM door does.
* Every answer is ``Response: <status>``, the ActionID when the action had
  one, then its lines and a blank line; lists and ``Command`` output come
  whole, as the correlator collected them.  An error raised anywhere
  becomes ``Response: Error`` with its Message here, and nowhere else.
* After ``Response: Goodbye`` (Logoff) and after a refused login
  (``Authentication failed``, ``Too many sessions``, ``Gateway is shutting
  down``) the connection closes: nothing more is read (``Phase.CLOSING``).
* Events are the upstream's bytes, untouched (the originator's ActionID
  already restored), in log order; a gap is told by one ``GatewayEventsLost``
  (``Lost: N``, ``Reason: Overrun``) first.  Asterisk's own ``Event: Shutdown`` is not passed on
  (D12): the client's connection to the gateway stays up, and it learns of
  the restart from ``GatewayAMIDown`` and ``GatewayAMIUp``.  The gateway's
  own drain writes ``Event: Shutdown`` (``Restart: False``) before it closes.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from gateway.access.classes import CLASS_BITS
from gateway.ami.actionreader import ActionReader
from gateway.ami.message import Field, Message, encode, header
from gateway.core.cursors import LossReason, lost_notice
from gateway.core.events import StoredEvent
from gateway.core.replies import Reply, error_message
from gateway.errors import AuthenticationFailed, GatewayError, ShuttingDown, TooManySessions

CLOSING_ERRORS: Final = (AuthenticationFailed, TooManySessions, ShuttingDown)
"""Errors after which the connection closes: a refused login (Asterisk
closes after ``Authentication failed`` and ``Login Already In Use``)."""

SHUTDOWN: Final = Message.of(
    ("Event", "Shutdown"),
    ("Privilege", "system,all"),
    ("Shutdown", "Cleanly"),
    ("Restart", "False"),
)
"""What Asterisk sends before it closes every session on a stop (fixture
``shutdown_event``, with ``Restart: False``): the gateway's drain sends it."""
SHUTDOWN_EVENT: Final = StoredEvent(
    seq=0, message=SHUTDOWN, classes=CLASS_BITS["system"], name="shutdown"
)
"""The same as a log event, for ``Session.wants`` (a ``system`` event)."""
UPSTREAM_SHUTDOWN: Final = "shutdown"


class Phase(enum.Enum):
    OPEN = "reading actions"
    CLOSING = "answered a Goodbye or a refused login: nothing more is read"


@dataclass(frozen=True, slots=True)
class Run:
    """A client action for the dispatcher."""

    fields: list[Field]

    @property
    def action(self) -> str:
        return header(self.fields, "Action") or ""

    @property
    def action_id(self) -> str | None:
        return header(self.fields, "ActionID") or None


@dataclass(frozen=True, slots=True)
class Refused:
    """A message answered here, nothing run; ``answer`` is its bytes."""

    fields: list[Field]
    answer: bytes


Request = Run | Refused


class ServerProtocol:
    """One connection's AMI wire, with no I/O of its own."""

    def __init__(self) -> None:
        self._reader = ActionReader()
        self._phase = Phase.OPEN

    @property
    def phase(self) -> Phase:
        return self._phase

    @staticmethod
    def banner(line: str) -> bytes:
        return encode(line) + b"\r\n"

    def feed(self, data: bytes) -> list[Request]:
        """The requests ``data`` completes; none once the connection is closing."""
        if self._phase is Phase.CLOSING:
            return []
        out: list[Request] = []
        for item in self._reader.feed(data):
            fields = list(item.message.fields)
            if item.problem is None:
                out.append(Run(fields))
            else:
                answer = error_message(item.problem.value, item.action_id).to_wire()
                out.append(Refused(fields, answer))
        return out

    def answer(self, reply: Reply) -> bytes:
        """A dispatcher's reply; a Goodbye closes the connection."""
        head = reply.head
        if head and head[0].name == "Goodbye":
            self._phase = Phase.CLOSING
        parts = [message.to_wire() for message in head]
        parts += [event.wire for event in reply.events]
        parts += [message.to_wire() for message in reply.tail]
        return b"".join(parts)

    def error(self, error: GatewayError, fields: Sequence[Field]) -> bytes:
        """The one place an error meets the AMI wire: ``Response: Error``."""
        if isinstance(error, CLOSING_ERRORS):
            self._phase = Phase.CLOSING
        action_id = header(fields, "ActionID")
        # An ActionID with a line break would be the injection itself.
        if action_id and any(c in action_id for c in "\r\n\0"):
            action_id = None
        return error_message(error.message, action_id).to_wire()

    @staticmethod
    def events(lost: int, events: Sequence[StoredEvent]) -> tuple[bytes, int]:
        """The bytes of a run of log events, and how many were passed over
        (Asterisk's own Shutdown, D12)."""
        # A connection's cursor is always its ring's: a gap is an overrun.
        parts = [lost_notice(lost, LossReason.OVERRUN).to_wire()] if lost else []
        skipped = 0
        for event in events:
            if event.name == UPSTREAM_SHUTDOWN:
                skipped += 1
                continue
            parts.append(event.wire)
        return b"".join(parts), skipped

    def shutdown(self) -> bytes:
        """The drain's last words; nothing more is read after them."""
        self._phase = Phase.CLOSING
        return SHUTDOWN.to_wire()
