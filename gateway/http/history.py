"""``{prefix}/history``: a user's view of the call history, as JSON.

GET takes the query string; POST a JSON object or a form.  The caller is
authenticated as for AJAM, by its session (cookie or ``mansession_id``) or
by HTTP Basic on the request itself, and needs the ``cdr`` or ``reporting``
read class.  Errors are ``JsonHttpError``s, answered by the HTTP layer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Final
from urllib.parse import parse_qsl

from aiohttp import web
from prometheus_client import CollectorRegistry

from gateway.access.classes import CLASS_BITS
from gateway.access.identity import Identity
from gateway.errors import (
    AuthenticationFailed,
    BadCredentials,
    Forbidden,
    InvalidField,
    NotAuthenticated,
    QueryTooLarge,
)
from gateway.history.query import parse_query
from gateway.history.record import to_json
from gateway.history.service import HistoryService
from gateway.history.stats import RecorderStats
from gateway.http.accesslog import note_request
from gateway.http.body import read_body
from gateway.http.caller import CallerResolver, request_peer
from gateway.http.respond import NO_CACHE, SERVER_NAME

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


class HistoryRoute:
    """``{prefix}/history``: the service's lookups for an authenticated caller."""

    def __init__(
        self, service: HistoryService, callers: CallerResolver, *, max_body: int, max_query: int
    ) -> None:
        self.service = service
        self.settings = service.settings
        self.callers = callers
        self.max_body = min(max_body, MAX_LOOKUP_BODY)
        self.max_query = max_query

    async def ctx(self, app: web.Application) -> AsyncIterator[None]:
        """Runs outside the AMI client's context: the last Cdr is in before the flush."""
        backend = self.service.backend
        assert backend is not None  # installed only with a backend
        await backend.start()
        yield
        await backend.close()

    async def handle(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        await cdr_reader(self.callers, request, params, "history")
        query = parse_query(params, self.settings)
        calls = await self.service.lookup(query)
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
            return single(request.query.items())
        raw = await read_body(request, self.max_body)
        kind = request.content_type.lower()
        if not raw.strip():
            return single(request.query.items())
        if kind == JSON_TYPE:
            return _json_object(raw)
        if kind == FORM_TYPE:
            return single(_form(raw.decode("utf-8", "replace")))
        raise InvalidField("the body must be JSON or a form", "body")


async def cdr_reader(
    callers: CallerResolver, request: web.Request, params: Mapping[str, object], action: str
) -> Identity:
    """The caller's rights (its session's, or its HTTP Basic user's, checked as
    an AJAM Basic request is; no session is kept), which must read ``cdr`` or
    ``reporting``; the access log names the user and ``action``."""
    try:
        caller = await callers.history(request, params, request_peer(request))
    except BadCredentials as error:
        raise InvalidField(error.message, "Authorization") from None
    except AuthenticationFailed:
        raise NotAuthenticated("Authentication failed") from None
    identity = caller.session.identity if caller is not None else None
    if identity is None:
        raise NotAuthenticated("log in first, or send HTTP Basic credentials")
    note_request(request, identity.username, action)
    if identity.read & READ_CLASSES == 0:
        raise Forbidden("the cdr or reporting read class is required")
    return identity


def _form(text: str) -> list[tuple[str, str]]:
    """A form's pairs; a form of more fields than a lookup has is refused
    before any is decoded (it comes before authentication)."""
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:  # parse_qsl counts the '&' first
        raise InvalidField("too many parameters", "body") from None


def single(pairs: Iterable[tuple[str, object]]) -> dict[str, object]:
    """Each parameter once: a repeated one is ambiguous and refused."""
    out: dict[str, object] = {}
    for name, value in pairs:
        if name in out:
            raise InvalidField(f"{name} is given more than once", name)
        out[name] = value
    return out


def _json_object(raw: bytes) -> dict[str, object]:
    try:
        data = json.loads(raw, object_pairs_hook=single)  # a repeated key, as in a form
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep
        raise InvalidField("the body is not valid JSON", "body") from None
    if not isinstance(data, dict):
        raise InvalidField("the body must be a JSON object", "body")
    return data


HISTORY: Final = web.AppKey("history", HistoryRoute)


def install_history(
    app: web.Application, route: HistoryRoute, prefix: str, registry: CollectorRegistry
) -> None:
    """The route, the backend's life and the recorder's metrics; call before
    the AJAM catch-all route and before the AMI client's context, so that it
    stops after AMI does."""
    app[HISTORY] = route
    service = route.service
    if service.backend is None:
        return
    if service.recorder is not None:
        registry.register(RecorderStats(service.recorder))
    app.cleanup_ctx.append(route.ctx)
    app.router.add_get(f"{prefix}/history", route.handle)
    app.router.add_post(f"{prefix}/history", route.handle)
