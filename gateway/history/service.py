"""``{prefix}/history``: a user's view of the call history, as JSON.

GET takes the query string; POST a JSON object or a form.  The caller is
authenticated as for AJAM, by its session (cookie or ``mansession_id``) or
by HTTP Basic on the request itself, and needs the ``cdr`` or ``reporting``
read class.  Errors are ``JsonHttpError``s, answered by the HTTP layer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Final, Protocol
from urllib.parse import parse_qsl

from aiohttp import web
from prometheus_client import CollectorRegistry

from gateway.ami.message import Message
from gateway.classes import CLASS_BITS
from gateway.config import Config
from gateway.dispatch import Dispatcher
from gateway.errors import (
    AuthenticationFailed,
    BadCredentials,
    BodyTooLarge,
    ConfigError,
    Forbidden,
    HistoryUnavailable,
    InvalidField,
    NotAuthenticated,
    QueryTooLarge,
)
from gateway.history.config import HistoryConfig
from gateway.history.query import HistoryQuery, parse_query
from gateway.history.record import CdrRecord, to_json
from gateway.history.recorder import Recorder
from gateway.history.stats import RecorderStats
from gateway.http.accesslog import note_request
from gateway.http.ajam import request_peer
from gateway.http.basic import BasicCredentials, parse_basic
from gateway.http.params import cookie_session_id
from gateway.http.respond import NO_CACHE, SERVER_NAME
from gateway.sessions import Identity

READ_CLASSES: Final = CLASS_BITS["cdr"] | CLASS_BITS["reporting"]
"""Either class lets a user read CDRs, as Asterisk's cdr_manager events need."""
MAX_FORM_FIELDS: Final = 32
"""A lookup has eight parameters; a form of more is refused unparsed."""
MAX_LOOKUP_BODY: Final = 64 * 1024
"""A lookup's body is a few hundred bytes.  It is parsed before the caller is
authenticated, and 1 MiB of JSON cost ~20 ms of the loop (bench/form_bench.py):
a larger body is 413 (or less, with a smaller ``[limits] max_body``)."""
JSON_TYPE: Final = "application/json"
FORM_TYPE: Final = "application/x-www-form-urlencoded"


class Backend(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def query(self, q: HistoryQuery) -> list[CdrRecord]: ...


class HistoryService:
    def __init__(self, config: Config, dispatcher: Dispatcher) -> None:
        self.settings = config.history
        self.dispatcher = dispatcher
        self.sessions = dispatcher.sessions
        self.max_body = min(config.limits.max_body, MAX_LOOKUP_BODY)
        self.max_query = config.limits.max_query
        self.recorder: Recorder | None = None
        self.backend: Backend | None = None
        if not self.settings.enabled:
            return
        if self.settings.backend == "sqlite":
            self.recorder = self.backend = Recorder(self.settings)
        else:
            self.backend = database_source(self.settings)

    def on_event(self, message: Message) -> None:
        if self.recorder is not None:
            self.recorder.on_event(message)

    async def ctx(self, app: web.Application) -> AsyncIterator[None]:
        """Runs outside the AMI client's context: the last Cdr is in before the flush."""
        backend = self.backend
        assert backend is not None  # installed only with a backend
        await backend.start()
        yield
        await backend.close()

    async def handle(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        identity = await self._identity(request, params)
        note_request(request, identity.username, "history")
        if identity.read & READ_CLASSES == 0:
            raise Forbidden("the cdr or reporting read class is required")
        query = parse_query(params, self.settings)
        assert self.backend is not None  # the route exists only with a backend
        try:
            async with asyncio.timeout(self.settings.query_timeout):
                calls = await self.backend.query(query)
        except TimeoutError:
            raise HistoryUnavailable("the lookup took longer than query_timeout") from None
        zone = self.settings.pbx_timezone
        body = {
            "count": len(calls),
            "limit": query.limit,
            "calls": [to_json(call, zone) for call in calls],
        }
        return web.json_response(
            body,
            headers={"Server": SERVER_NAME, "Cache-Control": NO_CACHE},
            dumps=lambda data: json.dumps(data, ensure_ascii=False),
        )

    async def _params(self, request: web.Request) -> Mapping[str, object]:
        if len(request.query_string) > self.max_query:
            raise QueryTooLarge
        if request.method != "POST":
            return _single(request.query.items())
        if request.content_length is not None and request.content_length > self.max_body:
            raise BodyTooLarge
        raw = await request.content.read(self.max_body + 1)
        if len(raw) > self.max_body:
            raise BodyTooLarge
        kind = request.content_type.lower()
        if not raw.strip():
            return _single(request.query.items())
        if kind == JSON_TYPE:
            return _json_object(raw)
        if kind == FORM_TYPE:
            return _single(_form(raw.decode("utf-8", "replace")))
        raise InvalidField("the body must be JSON or a form", "body")

    async def _identity(self, request: web.Request, params: Mapping[str, object]) -> Identity:
        try:
            credentials = parse_basic(request.headers.get("Authorization"))
        except BadCredentials as error:
            raise InvalidField(error.message, "Authorization") from None
        if credentials is not None:
            return await self._basic(request, credentials)
        # The query's mansession_id counts beside a body's: nginx routes on the
        # query alone, so a cookie-less POST names its session there.
        wanted = (
            cookie_session_id(request.headers.get("Cookie"))
            or params.get("mansession_id")
            or request.query.get("mansession_id")
        )
        now = time.monotonic()
        session = self.sessions.get(wanted, now) if isinstance(wanted, str) else None
        if session is None or session.identity is None:
            raise NotAuthenticated("log in first, or send HTTP Basic credentials")
        self.dispatcher.check_rate(session)  # a lookup spends the session's rate too
        self.sessions.touch(session, now)
        return session.identity  # a reload that removes its user ends the session

    async def _basic(self, request: web.Request, credentials: BasicCredentials) -> Identity:
        """Checked as an AJAM Basic request is: permit/deny, the failed-login
        delay and the security events; no session is kept."""
        peer = request_peer(request)
        probe = self.sessions.detached(peer.address, time.monotonic(), 0)
        try:
            return await self.dispatcher.authenticate(
                probe, peer, credentials.username, secret=credentials.password
            )
        except AuthenticationFailed:
            raise NotAuthenticated("Authentication failed") from None


def database_source(settings: HistoryConfig) -> Backend:
    """The PBX-table backend; its driver is an optional extra, imported only when used."""
    try:
        if settings.backend == "mysql":
            from gateway.history.mysql_source import MysqlSource

            return MysqlSource(settings)
        from gateway.history.pg_source import PgSource

        return PgSource(settings)
    except ImportError as exc:
        extra = settings.backend
        raise ConfigError(
            f"[history] backend: {extra!r} needs its driver: pip install 'ajam-gateway[{extra}]'"
        ) from exc


def _form(text: str) -> list[tuple[str, str]]:
    """A form's pairs; a form of more fields than a lookup has is refused
    before any is decoded (it comes before authentication)."""
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:  # parse_qsl counts the '&' first
        raise InvalidField("too many parameters", "body") from None


def _single(pairs: Iterable[tuple[str, object]]) -> dict[str, object]:
    """Each parameter once: a repeated one is ambiguous and refused."""
    out: dict[str, object] = {}
    for name, value in pairs:
        if name in out:
            raise InvalidField(f"{name} is given more than once", name)
        out[name] = value
    return out


def _json_object(raw: bytes) -> dict[str, object]:
    try:
        data = json.loads(raw, object_pairs_hook=_single)  # a repeated key, as in a form
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep
        raise InvalidField("the body is not valid JSON", "body") from None
    if not isinstance(data, dict):
        raise InvalidField("the body must be a JSON object", "body")
    return data


HISTORY: Final = web.AppKey("history", HistoryService)


def install_history(
    app: web.Application, service: HistoryService, prefix: str, registry: CollectorRegistry
) -> None:
    """The route, the backend's life and the recorder's metrics; call before
    the AJAM catch-all route and before the AMI client's context, so that it
    stops after AMI does."""
    app[HISTORY] = service
    if service.backend is None:
        return
    if service.recorder is not None:
        registry.register(RecorderStats(service.recorder))
    app.cleanup_ctx.append(service.ctx)
    app.router.add_get(f"{prefix}/history", service.handle)
    app.router.add_post(f"{prefix}/history", service.handle)
