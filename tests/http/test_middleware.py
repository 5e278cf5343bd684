"""The gateway's one middleware on a bare app: client address, rate, error
pages and status counts."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from gateway.core.metrics import Metrics
from gateway.core.ratelimit import TokenBuckets
from gateway.errors import NotAuthenticated
from gateway.http.client import client_of
from gateway.http.metricsview import metrics_view
from gateway.http.middleware import gateway_middleware
from tests.support.harness import MakeClient


async def echo(request: web.Request) -> web.Response:
    return web.Response(text=client_of(request))


async def forbidden(request: web.Request) -> web.Response:
    raise web.HTTPForbidden


async def crash(request: web.Request) -> web.Response:
    raise RuntimeError("bug")


async def unauthenticated(request: web.Request) -> web.Response:
    raise NotAuthenticated


def app_with(metrics: Metrics, trusted: tuple[str, ...], rate: float) -> web.Application:
    networks = tuple(ipaddress.ip_network(t) for t in trusted)
    app = web.Application(middlewares=[gateway_middleware(metrics, networks, TokenBuckets(rate))])
    app.router.add_get("/echo", echo)
    app.router.add_get("/forbidden", forbidden)
    app.router.add_get("/crash", crash)
    app.router.add_get("/json", unauthenticated)
    app.router.add_get("/healthz", metrics_view(metrics))
    return app


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(
    aiohttp_client: MakeClient,
) -> None:
    trusting = await aiohttp_client(app_with(Metrics(), ("127.0.0.0/8",), 100))
    response = await trusting.get("/echo", headers={"X-Forwarded-For": "192.0.2.5"})
    assert await response.text() == "192.0.2.5"
    untrusting = await aiohttp_client(app_with(Metrics(), (), 100))
    response = await untrusting.get("/echo", headers={"X-Forwarded-For": "192.0.2.5"})
    assert await response.text() == "127.0.0.1"


async def test_every_answer_is_counted_by_the_status_it_ends_with(
    aiohttp_client: MakeClient,
) -> None:
    metrics = Metrics()
    client = await aiohttp_client(app_with(metrics, (), 3))
    assert (await client.get("/forbidden")).status == 403  # raised by aiohttp's class
    assert (await client.get("/crash")).status == 500  # a bug
    missing = await client.get("/nowhere")
    assert missing.status == 404  # aiohttp's, made our page
    assert "<address>" in await missing.text()
    limited = await client.get("/echo")  # the fourth request: over the burst of 3
    assert limited.status == 429
    assert limited.headers["Retry-After"] == "1"
    assert (await client.get("/healthz")).status == 200  # probes are never limited
    for status in ("403", "500", "404", "429", "200"):
        counted = metrics.registry.get_sample_value("ajam_http_requests_total", {"status": status})
        assert counted == 1


async def test_an_http_level_error_becomes_its_page(aiohttp_client: MakeClient) -> None:
    client = await aiohttp_client(app_with(Metrics(), (), 100))
    response = await client.get("/json")
    assert response.status == 401
    assert "WWW-Authenticate" in response.headers
