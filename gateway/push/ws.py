"""``GET {prefix}/ws``: a WebSocket carrying actions one way, replies and events the other.

The contract (docs/clients.md, "Push: Server-Sent Events and WebSocket"):

* JSON text frames both ways.  A client frame is one action object
  (``gateway.push.wsframes``), dispatched as an AJAM request is (the same
  ``Dispatcher``: rights, the Command allowlist, rate limits, the field
  checks, Originate's Async), one at a time, each answered in order with
  the ``/json`` reply (``{"response": {...}, "events": [...]}``, the
  client's ActionID in ``response``);
* events as ``{"id": <seq>, "event": <the /json event object>}``;
  ``{"event": {"Event": "GatewayEventsLost", ...}}`` (no id) before the
  events after a gap; a ping every ``[push] heartbeat`` seconds;
* ``{"Action": "Resume", "Cursor": N}`` replays what came after N (its
  reply comes first, then the events); the stream starts at the cursor of
  the URL (``cursor=``/``lastEventId=``), else at the session's;
* logged in by the session cookie (or ``mansession_id``) on the upgrade, by
  HTTP Basic on it (a session for the socket's life), or by a ``Login``
  frame within ``[http] unauth_timeout`` (its session lives as long as the
  socket); ``Logoff`` is answered, then the socket closes (1000);
* a frame that is not an action object (bad JSON, an array, a binary
  frame) is answered with an error reply and loses nothing else; one more
  than ``[push] max_bad_frames`` closes the socket (1008).  The gateway
  ending the socket closes it with 1001 (a drain) or 1000 (its session
  ended).
* A browser's upgrade carries its page's ``Origin``: it must be the
  gateway's own host or one of ``[http] cors_origins`` (403 otherwise), or
  any page could act with the user's cookie.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from aiohttp import WSMsgType, hdrs, web

from gateway.ami.message import Field, header
from gateway.core.cursors import parse_cursor
from gateway.core.dispatch import Dispatcher
from gateway.core.events import EventLog, Placement
from gateway.core.metrics import Metrics
from gateway.core.replies import Peer, Reply, error_message, response
from gateway.core.sessionstore import SessionStore
from gateway.errors import AmiLevelError, BadRequest, Forbidden, HttpLevelError
from gateway.http.accesslog import note_request
from gateway.http.ajam import safe_action_id
from gateway.http.caller import CallerResolver, How, request_peer
from gateway.http.cors import CorsPolicy
from gateway.http.respond import render_reply
from gateway.push import frames
from gateway.push.fanout import Fanout
from gateway.push.request import stream_caller, stream_query
from gateway.push.stream import CloseReason, Stream, StreamKind, StreamState
from gateway.push.wsframes import BadFrame, parse_action
from gateway.render import FORMATS, RenderOptions

CLOSE_CODES: Final = {
    CloseReason.SESSION: (1000, b"session ended"),
    CloseReason.SHUTDOWN: (1001, b"gateway shutting down"),
    CloseReason.BAD_FRAMES: (1008, b"too many frames that are not actions"),
    CloseReason.LOGIN_TIMEOUT: (1008, b"not logged in"),
}
"""RFC 6455 7.4.1: 1000 normal, 1001 going away, 1008 policy violation."""
CLOSE_WAIT: Final = 5.0
"""Seconds to wait for the client's own close frame after ours."""
NOT_HERE: Final = frozenset({"waitevent"})
"""Actions a socket does not take: its events are pushed."""


def origin_allowed(request: web.Request, cors: CorsPolicy) -> bool:
    """No Origin (not a browser), the gateway's own host, or a CORS origin."""
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        return True
    if cors.allow_origin(origin) is not None:
        return True
    return urlsplit(origin.lower()).netloc == request.host.lower()


@dataclass(slots=True)
class Socket:
    """One WebSocket connection: its stream, and whether an action is running."""

    ws: web.WebSocketResponse
    stream: Stream
    peer: Peer
    busy: bool = False
    ending: CloseReason | None = None
    """The gateway ended the stream while an action ran: close after its reply."""
    closing: asyncio.Task[bool] | None = None
    bad: int = 0
    """Frames that were not actions, so far."""
    resume: Placement | None = None
    """A Resume's cursor, to go on from once its reply is written."""

    def close(self, reason: CloseReason) -> None:
        """Send our close frame (at once unless an action's reply is due)."""
        if self.busy:
            self.ending = reason
            return
        if self.closing is None and reason in CLOSE_CODES:
            code, message = CLOSE_CODES[reason]
            task = self.ws.close(code=code, message=message, drain=False)
            self.closing = asyncio.ensure_future(task)


class WsRoute:
    def __init__(
        self,
        *,
        fanout: Fanout,
        callers: CallerResolver,
        sessions: SessionStore,
        dispatcher: Dispatcher,
        log: EventLog,
        metrics: Metrics,
        cors: CorsPolicy,
        max_query: int,
    ) -> None:
        self._fanout = fanout
        self._callers = callers
        self._sessions = sessions
        self._dispatcher = dispatcher
        self._log = log
        self._metrics = metrics
        self._cors = cors
        self.max_query = max_query

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not origin_allowed(request, self._cors):
            raise Forbidden("Origin not allowed")
        query = stream_query(request, self.max_query)
        peer = request_peer(request)
        settings = self._fanout.settings
        ws = web.WebSocketResponse(
            compress=False, max_msg_size=settings.max_frame_bytes, timeout=CLOSE_WAIT
        )
        if not ws.can_prepare(request).ok:
            raise BadRequest("WebSocket upgrade expected")
        caller = await stream_caller(self._callers, request, query, peer)
        if caller is None:
            session = self._sessions.fresh(peer.address, time.monotonic(), self._log.last_seq)
        else:
            session = caller.session
        owned = caller is None or caller.how is How.STREAM
        try:
            placement = query.placement(session, self._log)
            self._fanout.admit(session, peer.address)
            await ws.prepare(request)
            transport = request.transport
            if transport is None:  # pragma: no cover - the client left during the upgrade
                return ws
            stream = Stream(StreamKind.WS, session, peer.address, transport, names=query.names)
            socket = Socket(ws, stream, peer)
            stream.on_end = lambda _, reason: socket.close(reason)
            await self._run(socket, placement)
            identity = session.identity
            note_request(request, identity.username if identity else "", "")
        finally:
            if owned:
                self._sessions.remove(session)
        return ws

    async def _run(self, socket: Socket, placement: Placement) -> None:
        fanout, stream = self._fanout, socket.stream
        fanout.open(stream)
        try:
            if stream.session.authenticated:
                fanout.start(stream, placement)
            await self._receive(socket)
        finally:
            fanout.end(stream, CloseReason.CLIENT)
            if socket.closing is not None:
                await socket.closing

    async def _receive(self, socket: Socket) -> None:
        ws, session = socket.ws, socket.stream.session
        login_by = time.monotonic() + self._sessions.unauth_timeout
        while not ws.closed:
            # (0 would mean "no timeout" to aiohttp)
            wait = None if session.authenticated else max(0.001, login_by - time.monotonic())
            try:
                message = await ws.receive(timeout=wait)
            except TimeoutError:
                self._fanout.end(socket.stream, CloseReason.LOGIN_TIMEOUT)
                return
            if message.type is WSMsgType.TEXT:
                await self._frame(socket, message.data)
            elif message.type is WSMsgType.BINARY:
                self._bad(socket, "Binary frames are not accepted: send JSON text")
            else:
                return  # close, closing, closed, error: aiohttp answered the client's close

    def _bad(self, socket: Socket, text: str) -> None:
        socket.bad += 1
        self._reply(socket, Reply((error_message(text, None),)))
        if socket.bad > self._fanout.settings.max_bad_frames:
            self._fanout.end(socket.stream, CloseReason.BAD_FRAMES)

    async def _frame(self, socket: Socket, text: str) -> None:
        try:
            fields = parse_action(text)
        except BadFrame as error:
            self._bad(socket, error.message)
            return
        session = socket.stream.session
        was_in = session.authenticated
        socket.busy = True
        try:
            reply = await self._act(socket, fields)
        finally:
            socket.busy = False
        self._metrics.action((header(fields, "Action") or "").strip(), reply)
        stream = socket.stream
        if not self._reply(socket, reply):
            await self._fanout.drained(stream)  # read no more frames until the client reads
        if socket.ending is not None:
            socket.close(socket.ending)
        elif socket.resume is not None:
            self._fanout.restart(stream, socket.resume)
            socket.resume = None
        elif session.authenticated and not was_in:  # a Login frame
            self._fanout.start(stream, Placement(session.cursor, foreign=False))

    async def _act(self, socket: Socket, fields: list[Field]) -> Reply:
        session = socket.stream.session
        name = (header(fields, "Action") or "").strip().lower()
        try:
            if name == "resume" and session.authenticated:
                return self._resume(socket, fields)
            if name in NOT_HERE and session.authenticated:
                raise AmiLevelError("WaitEvent is not available on a WebSocket: events are pushed")
            return await self._dispatcher.handle(session, fields, socket.peer, time.monotonic())
        except (AmiLevelError, HttpLevelError) as error:
            return Reply((error_message(error.message, safe_action_id(fields)),))

    def _resume(self, socket: Socket, fields: list[Field]) -> Reply:
        text = header(fields, "Cursor")
        cursor = None if text is None else parse_cursor(text)
        if cursor is None:
            raise AmiLevelError("Resume needs a Cursor")
        socket.resume = self._log.place(cursor)
        reply = response("Success", header(fields, "ActionID"), ("Cursor", str(cursor)))
        return Reply((reply,))

    def _reply(self, socket: Socket, reply: Reply) -> bool:
        """Write the reply frame; False when the client holds more than the
        stream's bound unread."""
        opts = RenderOptions(session=reply.login_session)
        body = frames.ws_frame(render_reply(FORMATS["json"], reply, opts))
        stream = socket.stream
        if stream.state is StreamState.CLOSED:
            if not stream.transport.is_closing():
                stream.transport.write(body)  # a Logoff's answer, before the close frame
            return True
        return self._fanout.send(stream, body)
