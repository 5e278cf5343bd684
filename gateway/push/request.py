"""What a push request asks for, read as AJAM reads its parameters.

* ``events=Newchannel,Hangup``: only these event names (case-insensitive);
* the cursor to go on after: the ``Last-Event-ID`` header (what a browser's
  EventSource sends when it reconnects), else a ``lastEventId`` or
  ``cursor`` parameter (for clients that cannot set headers; a reconnect
  repeats the URL, so the header wins), read and placed in the ring as
  waitevent's ``Cursor`` is (``gateway.core.cursors``), else the session's
  own cursor: the events it has not seen yet (since its login, or its last
  poll);
* ``mansession_id``: the session, for clients without cookies.

Errors of the login gate (``AmiLevelError``) become the stream's HTTP
refusal (``refusal``, in ``stream_caller``): a stream has no AJAM answer to
carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aiohttp import web

from gateway.ami.message import Field, header
from gateway.core.cursors import parse_cursor
from gateway.core.events import EventLog, Placement
from gateway.core.replies import Peer
from gateway.core.sessions import Session
from gateway.errors import (
    AmiLevelError,
    AuthenticationFailed,
    CredentialsMismatch,
    Forbidden,
    InvalidField,
    JsonHttpError,
    NotAuthenticated,
    QueryTooLarge,
    StreamsUnavailable,
    TooManySessions,
)
from gateway.http.caller import Caller, CallerResolver
from gateway.http.params import parse_form, split_target

MAX_NAMES: Final = 256
"""Event names one stream may narrow to: Asterisk 22 has ~200 event types."""
MAX_NAME: Final = 128
"""Characters of one name; no AMI event name comes near it."""
CURSOR_NAMES: Final = ("lastEventId", "cursor")


@dataclass(frozen=True, slots=True)
class StreamQuery:
    fields: list[Field]
    names: frozenset[str] | None
    cursor_text: str | None
    """The client's cursor as sent (header first), None for none."""

    @property
    def session_id(self) -> str | None:
        return header(self.fields, "mansession_id")

    def placement(self, session: Session, log: EventLog) -> Placement:
        """Where the stream starts: after the client's cursor as the ring
        places it (``foreign``: not one this ring handed out, so the stream
        begins with GatewayEventsLost, Reason: Restart), else after the session's."""
        cursor = None
        if self.cursor_text is not None:
            try:
                cursor = parse_cursor(self.cursor_text)
            except AmiLevelError:
                raise InvalidField("Invalid cursor", "Last-Event-ID") from None
        if cursor is None:
            return Placement(session.cursor, foreign=False)
        return log.place(cursor)


def stream_query(request: web.Request, max_query: int) -> StreamQuery:
    _, raw = split_target(request.raw_path)
    if len(raw) > max_query:
        raise QueryTooLarge
    fields = parse_form(raw)
    text = request.headers.get("Last-Event-ID")
    if text is None:
        text = next((header(fields, name) for name in CURSOR_NAMES if header(fields, name)), None)
    return StreamQuery(fields, event_names(header(fields, "events")), text)


def event_names(value: str | None) -> frozenset[str] | None:
    """``Newchannel,Hangup`` to the lower-cased names the log keys events by."""
    if value is None:
        return None
    names = frozenset(n.strip().lower() for n in value.split(",") if n.strip())
    if not names or len(names) > MAX_NAMES or any(len(n) > MAX_NAME for n in names):
        raise InvalidField(
            f"events must name 1 to {MAX_NAMES} events of at most {MAX_NAME} characters",
            "events",
        )
    return names


def refusal(error: AmiLevelError) -> JsonHttpError:
    """A login gate's answer as a stream's HTTP status."""
    if isinstance(error, AuthenticationFailed):
        return NotAuthenticated(error.message)
    if isinstance(error, CredentialsMismatch):
        return Forbidden(error.message)
    if isinstance(error, TooManySessions):
        return StreamsUnavailable(error.message)
    return InvalidField(error.message)


async def stream_caller(
    callers: CallerResolver, request: web.Request, query: StreamQuery, peer: Peer
) -> Caller | None:
    """The caller of a push stream (``CallerResolver.stream``), None without a
    logged-in session; the login gate's errors raised as the stream's refusal."""
    try:
        return await callers.stream(request, query.session_id, peer)
    except AmiLevelError as error:
        raise refusal(error) from None
