"""The AJAM endpoints: ``{prefix}/rawman``, ``/mxml``, ``/manager``, ``/json``,
and their HTTP Digest variants ``/arawman``, ``/amxml``, ``/amanager``
(``gateway.http.digestauth``: the nonce names the session, no cookie).

Paths match case-insensitively with an optional trailing ``/``, as in
Asterisk.  Parameters come from the raw query (GET) or a form body (POST,
which replaces the query), decoded byte-wise.  The session comes from the
cookie (quoted or not) or a ``mansession_id`` parameter; an unknown one gets
a fresh unauthenticated session silently.  A request with HTTP Basic
credentials follows ``gateway.oneshot`` instead (one action, no cookie).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, cast

from aiohttp import web

from gateway.ami.codec import validate_action
from gateway.ami.message import Field, header
from gateway.dispatch import Dispatcher
from gateway.errors import AmiLevelError, BodyTooLarge, QueryTooLarge, RequestTooLarge
from gateway.http.accesslog import note_request
from gateway.http.basic import BasicCredentials, parse_basic
from gateway.http.client import client_of
from gateway.http.digestauth import DigestAuth
from gateway.http.errors import error_page
from gateway.http.params import cookie_session_id, parse_form, split_target
from gateway.http.respond import CookiePolicy, ajam_response, render_reply
from gateway.oneshot import action_name, basic_session, login_fields
from gateway.render import DEFAULT_OPTIONS, FORMATS, Format, RenderOptions
from gateway.render.base import DEFAULT_AJAXDEST, DEFAULT_AJAXOBJTYPE
from gateway.replies import Peer, Reply, error_message
from gateway.sessions import Session, SessionStore

AJAM_FORMATS: Final = ("rawman", "mxml", "manager", "json")
ALLOWED_METHODS: Final = frozenset({"GET", "HEAD", "POST"})
FORM_TYPE: Final = "application/x-www-form-urlencoded"
DIGEST_FORMATS: Final = MappingProxyType(
    {"arawman": "rawman", "amxml": "mxml", "amanager": "amanager"}
)
"""The Digest paths and the format each answers in."""


@dataclass(frozen=True, slots=True)
class AjamSettings:
    prefix: str = "/asterisk"
    max_query: int = 65_536
    max_body: int = 1 << 20
    send_timeout: float = 60.0
    """Seconds an answer may take to reach the kernel before the connection
    is closed (nginx's send_timeout): a client that does not read must not
    keep its share of the send budget."""


def match_format(prefix: str, path: str) -> str | None:
    """``/ASTERISK/rawman/`` → ``rawman``; ``//rawman`` or ``rawman/x`` → None."""
    lowered = path.lower()
    if lowered.endswith("/") and len(lowered) > 1:
        lowered = lowered[:-1]
    head = prefix.lower().rstrip("/") + "/"
    if not lowered.startswith(head):
        return None
    name = lowered[len(head) :]
    return name if name in AJAM_FORMATS or name in DIGEST_FORMATS else None


def safe_action_id(fields: list[Field]) -> str | None:
    """The client's ActionID, unless it is itself the bad input."""
    value = header(fields, "ActionID")
    if value is None:
        return None
    try:
        validate_action([("ActionID", value)])
    except AmiLevelError:
        return None
    return value


class AjamHandler:
    def __init__(
        self,
        settings: AjamSettings,
        dispatcher: Dispatcher,
        sessions: SessionStore,
        cookie: CookiePolicy,
        digest: DigestAuth | None = None,
    ) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.sessions = sessions
        self.cookie = cookie
        self.digest = digest

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path, query = split_target(request.raw_path)
        name = match_format(self.settings.prefix, path)
        digest = DIGEST_FORMATS.get(name or "")
        if name is None or (digest and self.digest is None):
            return error_page(404, "Not Found", "The requested URL was not found on this server.")
        if request.method not in ALLOWED_METHODS:
            return error_page(
                501, "Not Implemented", "Attempt to use unimplemented / unsupported method"
            )
        fmt = FORMATS[digest or name]
        try:
            fields = await self._params(request, query)
        except RequestTooLarge as error:  # more than AMI takes: nothing more is parsed
            return await self._send(request, self._too_large(request, fmt, error, bool(digest)))
        opts = _options(digest or name, fields)
        peer = request_peer(request)
        session: Session | None = None  # the session the action runs in
        stored: Session | None = None  # the session whose cookie is sent back
        try:
            if digest and self.digest is not None:
                found = await self.digest.session(request, peer)
                if isinstance(found, web.Response):
                    return found  # a 401 challenge
                session = found  # digest answers carry no cookie: stored stays None
            else:
                fields, session, stored = await self._resolve(request, fields, peer)
            reply = await self.dispatcher.handle(session, fields, peer)
        except AmiLevelError as error:
            reply = Reply((error_message(error.message, safe_action_id(fields)),))
        self._account(request, fields, session, reply)
        if reply.login_session is not None:
            opts = RenderOptions(opts.ajaxdest, opts.ajaxobjtype, reply.login_session)
        response = self._respond(fmt, reply, opts, stored)
        del reply  # its events may leave the ring while the body is written
        return await self._send(request, response)

    async def _send(self, request: web.Request, response: web.Response) -> web.Response:
        """Write the answer now, its body counted in the send budget until
        the kernel has all of it (``gateway.sendbudget``)."""
        transport = request.transport
        if transport is None:
            return response  # the client is gone; aiohttp drops the answer
        budget = self.dispatcher.send_budget
        share = budget.take(len(cast(bytes, response.body)))
        # aiohttp's drain returns once the transport holds less than its
        # high-water mark; at 0 that means once everything is in the kernel.
        transport.set_write_buffer_limits(high=0)
        timer = asyncio.get_running_loop().call_later(self.settings.send_timeout, transport.abort)
        try:
            await response.prepare(request)
            await response.write_eof()
        except ConnectionError:
            pass  # reset, or closed by the timer: aiohttp logs the request as usual
        finally:
            timer.cancel()
            budget.give(share)
        return response

    def _too_large(
        self, request: web.Request, fmt: Format, error: RequestTooLarge, digest: bool
    ) -> web.Response:
        """Refused unparsed.  A cookie's session still gets its cookie back,
        as with every answer; no session is made for the request."""
        now = time.monotonic()
        session = None if digest else self._existing(request, [], now)
        if session is not None:
            self.sessions.touch(session, now)
        reply = Reply((error_message(error.message, None),))
        self._account(request, [], session, reply)
        return self._respond(fmt, reply, DEFAULT_OPTIONS, session)

    def _respond(
        self, fmt: Format, reply: Reply, opts: RenderOptions, session: Session | None
    ) -> web.Response:
        body = render_reply(fmt, reply, opts)
        self.dispatcher.metrics.delivered(reply.events)
        cookie = None if session is None else self.cookie.header(session.id)
        return ajam_response(fmt, body, cookie=cookie)

    def _account(
        self, request: web.Request, fields: list[Field], session: Session | None, reply: Reply
    ) -> None:
        """The action's metric and the access log's user and action."""
        action = (header(fields, "Action") or "").strip()
        self.dispatcher.metrics.action(action, reply)
        identity = session.identity if session is not None else None
        note_request(request, identity.username if identity else "", action)

    async def _params(self, request: web.Request, query: bytes) -> list[Field]:
        if len(query) > self.settings.max_query:
            raise QueryTooLarge
        if request.method != "POST":
            return parse_form(query)
        if request.content_length is not None and request.content_length > self.settings.max_body:
            raise BodyTooLarge
        content_type = request.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != FORM_TYPE:
            return []  # Asterisk: a POST without a form body has no parameters
        body = await request.content.read(self.settings.max_body + 1)
        if len(body) > self.settings.max_body:
            raise BodyTooLarge
        return parse_form(body)

    def _existing(self, request: web.Request, fields: list[Field], now: float) -> Session | None:
        """The session named by the cookie or a ``mansession_id`` parameter."""
        wanted = cookie_session_id(request.headers.get("Cookie")) or header(fields, "mansession_id")
        return self.sessions.get(wanted, now) if wanted else None

    def _session(self, request: web.Request, fields: list[Field], peer: Peer) -> Session:
        now = time.monotonic()
        session = self._existing(request, fields, now)
        if session is None:
            session = self.sessions.create(peer.address, now, self.dispatcher.log.last_seq)
        else:
            self.sessions.touch(session, now)
        return session

    async def _resolve(
        self, request: web.Request, fields: list[Field], peer: Peer
    ) -> tuple[list[Field], Session, Session | None]:
        """(fields, session to run in, session whose cookie is sent back)."""
        credentials = parse_basic(request.headers.get("Authorization"))
        if credentials is not None and action_name(fields) == "login":
            existing = self._existing(request, fields, time.monotonic())
            fields, credentials = login_fields(fields, credentials, existing), None
        if credentials is None:
            session = self._session(request, fields, peer)
            return fields, session, session
        session, stored = await self._basic(request, fields, peer, credentials)
        return fields, session, stored

    async def _basic(
        self, request: web.Request, fields: list[Field], peer: Peer, credentials: BasicCredentials
    ) -> tuple[Session, Session | None]:
        """HTTP Basic (``gateway.oneshot``): (session to run in, stored session)."""
        existing = self._existing(request, fields, time.monotonic())
        found = await basic_session(self.dispatcher, credentials, existing, fields, peer)
        if found.stored:
            self.sessions.touch(found.session, time.monotonic())
            return found.session, found.session
        return found.session, None


def _options(name: str, fields: list[Field]) -> RenderOptions:
    if name != "mxml":
        return DEFAULT_OPTIONS  # one shared (frozen) instance, not one per request
    return RenderOptions(
        ajaxdest=header(fields, "ajaxdest") or DEFAULT_AJAXDEST,
        ajaxobjtype=header(fields, "ajaxobjtype") or DEFAULT_AJAXOBJTYPE,
    )


def request_peer(request: web.Request) -> Peer:
    """Who sent the request, as the dispatcher and the security events see it."""
    transport = request.transport
    remote = transport.get_extra_info("peername") if transport else None
    local = transport.get_extra_info("sockname") if transport else None
    address = client_of(request)
    # Behind a proxy the TCP port is the proxy's, not the client's.
    port = int(remote[1]) if remote and str(remote[0]) == address else 0
    return Peer(
        address=address,
        port=port,
        local_address=str(local[0]) if local else "127.0.0.1",
        local_port=int(local[1]) if local else 0,
    )
