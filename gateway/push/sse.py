"""``GET {prefix}/events``: Server-Sent Events.

The contract (docs/clients.md, "Push: Server-Sent Events and WebSocket"):

* authenticated as AJAM (``gateway.http.caller``): the session cookie or
  ``mansession_id`` of a logged-in session, or HTTP Basic; without either,
  401 with ``WWW-Authenticate: Basic``;
* ``200``, ``Content-Type: text/event-stream; charset=utf-8``,
  ``Cache-Control: no-cache``, ``X-Accel-Buffering: no`` (nginx passes each
  write on at once);
* first ``retry: <[push] retry>`` and ``id: <cursor>`` (no data: the
  browser's Last-Event-ID without an event; no ``id`` when the client's
  cursor was foreign, so a reconnect before the notice hears it again);
* one message per event: ``id: <seq>``, ``event: <Event>``, ``data: <the
  /json event object>``; ``GatewayEventsLost`` (no id) before the events
  after a gap; a ``:`` comment every ``[push] heartbeat`` seconds;
* when the gateway ends the stream (its session ended, a drain) a last
  ``GatewayStreamClosed`` event with ``Reason: session`` or ``shutdown``.
"""

from __future__ import annotations

from typing import Final

from aiohttp import HttpVersion11, web

from gateway.core.events import EventLog, Placement
from gateway.core.sessionstore import SessionStore
from gateway.errors import NotAuthenticated
from gateway.http.accesslog import note_request
from gateway.http.caller import CallerResolver, How, request_peer
from gateway.http.respond import SERVER_NAME
from gateway.push import frames
from gateway.push.fanout import Fanout
from gateway.push.request import stream_caller, stream_query
from gateway.push.stream import CloseReason, Stream, StreamKind

HEADERS: Final = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
    "Server": SERVER_NAME,
}
"""X-Accel-Buffering: nginx would otherwise hold the stream in its buffers."""
TOLD: Final = frozenset({CloseReason.SESSION, CloseReason.SHUTDOWN})
"""Ends the client is told of with a last event (the others cannot hear it)."""


def end_sse(stream: Stream, reason: CloseReason) -> None:
    """The gateway ends an SSE stream: a last event, when there is one to tell."""
    if reason in TOLD and not stream.transport.is_closing():
        notice = frames.sse_notice(frames.closed_notice(reason.value))
        stream.transport.write(stream.frame([notice]))


class SseRoute:
    def __init__(
        self,
        *,
        fanout: Fanout,
        callers: CallerResolver,
        sessions: SessionStore,
        log: EventLog,
        max_query: int,
    ) -> None:
        self._fanout = fanout
        self._callers = callers
        self._sessions = sessions
        self._log = log
        self.max_query = max_query

    async def handle(self, request: web.Request) -> web.StreamResponse:
        query = stream_query(request, self.max_query)
        peer = request_peer(request)
        caller = await stream_caller(self._callers, request, query, peer)
        if caller is None:
            raise NotAuthenticated
        session = caller.session
        assert session.identity is not None
        note_request(request, session.identity.username, "")
        try:
            placement = query.placement(session, self._log)
            self._fanout.admit(session, peer.address)
            response = web.StreamResponse(headers=HEADERS)
            chunked = request.version >= HttpVersion11
            if chunked:
                response.enable_chunked_encoding()
            response.force_close()  # a stream ends with its connection
            await response.prepare(request)
            transport = request.transport
            if transport is None:  # pragma: no cover - the client left during prepare
                return response
            stream = Stream(
                StreamKind.SSE,
                session,
                peer.address,
                transport,
                names=query.names,
                chunked=chunked,
                on_end=end_sse,
            )
            await self._run(stream, placement)
        finally:
            if caller.how is How.STREAM:
                self._sessions.remove(session)
        return response

    async def _run(self, stream: Stream, placement: Placement) -> None:
        fanout = self._fanout
        fanout.open(stream)
        try:
            fanout.start(stream, placement, frames.sse_opening(fanout.settings.retry, placement))
            await stream.done
        finally:
            fanout.end(stream, CloseReason.CLIENT)  # cancelled: the client went away
