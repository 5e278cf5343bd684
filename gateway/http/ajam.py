"""The AJAM endpoints: ``{prefix}/rawman``, ``/mxml``, ``/manager``, ``/json``,
and their HTTP Digest variants ``/arawman``, ``/amxml``, ``/amanager``
(``gateway.http.digestauth``: the nonce names the session, no cookie).

Paths match case-insensitively with an optional trailing ``/``, as in
Asterisk.  Parameters come from the raw query (GET) or a form body (POST,
which replaces the query), decoded byte-wise.  The session comes from the
cookie (quoted or not) or a ``mansession_id`` parameter; an unknown one gets
a fresh unauthenticated session silently.  A request with HTTP Basic
credentials follows ``gateway.http.basic`` instead (one action, no cookie).
The caller resolver (``gateway.http.caller``) finds the session, once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, cast

from aiohttp import web

from gateway.access.astvalues import action_name, header_value
from gateway.ami.codec import validate_action
from gateway.ami.message import Field, header
from gateway.core.dispatch import Dispatcher
from gateway.core.metrics import Metrics
from gateway.core.replies import Reply, error_message
from gateway.core.sendbudget import SendBudget
from gateway.errors import AmiLevelError, BodyTooLarge, QueryTooLarge, RequestTooLarge
from gateway.http.accesslog import note_request
from gateway.http.body import read_body
from gateway.http.caller import Caller, CallerResolver, request_peer
from gateway.http.errors import error_page
from gateway.http.params import parse_form, split_target
from gateway.http.respond import CookiePolicy, ajam_response, render_reply
from gateway.render import DEFAULT_OPTIONS, FORMATS, Format, RenderOptions
from gateway.render.base import DEFAULT_AJAXDEST, DEFAULT_AJAXOBJTYPE

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
    """The client's ActionID as Asterisk echoes it (past its leading blanks,
    none when empty), unless it is itself the bad input."""
    value = header_value(fields, "ActionID")
    if not value:
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
        callers: CallerResolver,
        cookie: CookiePolicy,
        metrics: Metrics,
        send_budget: SendBudget,
    ) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.callers = callers
        self.cookie = cookie
        self.metrics = metrics
        self.send_budget = send_budget

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path, query = split_target(request.raw_path)
        name = match_format(self.settings.prefix, path)
        digest = DIGEST_FORMATS.get(name or "")
        if name is None or (digest and self.callers.digest is None):
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
        caller: Caller | None = None
        try:
            found = await self.callers.ajam(request, fields, peer, digest=digest is not None)
            if isinstance(found, web.Response):
                return found  # a Digest path's 401 challenge
            caller, fields = found, found.fields
            reply = await self.dispatcher.handle(caller.session, fields, peer, caller.now)
        except AmiLevelError as error:
            reply = Reply((error_message(error.message, safe_action_id(fields)),))
        self._account(request, fields, caller, reply)
        if reply.login_session is not None:
            opts = RenderOptions(opts.ajaxdest, opts.ajaxobjtype, reply.login_session)
        response = self._respond(fmt, reply, opts, caller)
        del reply  # its events may leave the ring while the body is written
        return await self._send(request, response)

    async def _send(self, request: web.Request, response: web.Response) -> web.Response:
        """Write the answer now, its body counted in the send budget until
        the kernel has all of it (``gateway.core.sendbudget``)."""
        transport = request.transport
        if transport is None:
            return response  # the client is gone; aiohttp drops the answer
        budget = self.send_budget
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
        caller = None if digest else self.callers.by_cookie(request)
        reply = Reply((error_message(error.message, None),))
        self._account(request, [], caller, reply)
        return self._respond(fmt, reply, DEFAULT_OPTIONS, caller)

    def _respond(
        self, fmt: Format, reply: Reply, opts: RenderOptions, caller: Caller | None
    ) -> web.Response:
        body = render_reply(fmt, reply, opts)
        self.metrics.delivered(reply.events)
        cookie = None
        if caller is not None and caller.sets_cookie:
            cookie = self.cookie.header(caller.session.id)
        return ajam_response(fmt, body, cookie=cookie)

    def _account(
        self, request: web.Request, fields: list[Field], caller: Caller | None, reply: Reply
    ) -> None:
        """The action's metric and the access log's user and action."""
        action = action_name(fields)
        self.metrics.action(action, reply)
        identity = caller.session.identity if caller is not None else None
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
        return parse_form(await read_body(request, self.settings.max_body))


def _options(name: str, fields: list[Field]) -> RenderOptions:
    if name != "mxml":
        return DEFAULT_OPTIONS  # one shared (frozen) instance, not one per request
    return RenderOptions(
        ajaxdest=header(fields, "ajaxdest") or DEFAULT_AJAXDEST,
        ajaxobjtype=header(fields, "ajaxobjtype") or DEFAULT_AJAXOBJTYPE,
    )
