"""The gateway's one middleware: status count, error pages, client address;
and the drain's ``Connection: close`` on every answer.

It counts every answer by status (outermost, so errors turned into pages
count too), turns ``TRANSLATED`` errors into pages (``gateway.http.errors``)
and admits the client (``gateway.http.client``), in one coroutine: three
stacked middlewares were three more wrappers every await passes through,
≈ 10 % of a forwarded ping's CPU in the rtt profile (bench/README.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from gateway.access.users import Network
from gateway.core.metrics import Metrics
from gateway.core.phase import Lifecycle
from gateway.http.caller import admit
from gateway.http.errors import TRANSLATED, error_response, from_browser_script
from gateway.http.metricsview import status_of


def gateway_middleware(metrics: Metrics, trusted: Sequence[Network]) -> Middleware:
    counted = metrics.http_status

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            try:
                admit(request, trusted)
                response = await handler(request)
            except TRANSLATED as error:
                response = error_response(error, challenge=not from_browser_script(request.headers))
        except Exception as error:  # counted as what it becomes, then aiohttp's
            counted(status_of(error))
            raise
        counted(response.status)
        return response

    return middleware


def close_when_draining(
    lifecycle: Lifecycle,
) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An ``on_response_prepare`` hook: while draining, every reply closes its
    connection, so nginx never sends a request down a keep-alive connection
    that is about to be closed."""

    async def prepare(request: web.Request, response: web.StreamResponse) -> None:
        if lifecycle.closing:
            response.force_close()
            response.headers["Connection"] = "close"  # aiohttp has already built its own

    return prepare
