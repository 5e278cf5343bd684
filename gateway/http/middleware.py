"""The gateway's one middleware: status count, error pages, client address and rate.

It does, in one coroutine, what ``status_counter``
(``gateway.http.metricsview``), ``error_middleware`` (``gateway.http.errors``)
and ``client_middleware`` (``gateway.http.client``) do when stacked in that
order, outermost first.  Each stacked middleware is one more wrapper aiohttp
calls and one more coroutine every await passes through; the three were
≈ 10 % of a forwarded ping's CPU in the rtt profile (bench/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from gateway.configfields import Network
from gateway.http.client import admit
from gateway.http.errors import TRANSLATED, error_response
from gateway.http.metricsview import status_of
from gateway.metrics import Metrics
from gateway.ratelimit import TokenBuckets


def gateway_middleware(
    metrics: Metrics, trusted: Sequence[Network], buckets: TokenBuckets[str]
) -> Middleware:
    counted = metrics.http_status

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            try:
                admit(request, trusted, buckets)
                response = await handler(request)
            except TRANSLATED as error:
                response = error_response(error)
        except Exception as error:  # counted as what it becomes, then aiohttp's
            counted(status_of(error))
            raise
        counted(response.status)
        return response

    return middleware
