"""``GET /metrics``, and the status an escaping error is counted as.

The exposition format follows the scraper's ``Accept`` header
(``prometheus_client.exposition.choose_encoder``): Prometheus text by
default, OpenMetrics when asked for.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client.exposition import choose_encoder

from gateway.core.metrics import Metrics


def metrics_view(metrics: Metrics) -> Handler:
    async def scrape(request: web.Request) -> web.StreamResponse:
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encode(metrics.registry), headers={"Content-Type": content_type})

    return scrape


def status_of(error: Exception) -> int:
    """The status an exception escaping the app ends as: its own, else 500."""
    return error.status if isinstance(error, web.HTTPException) else 500
