"""The gateway's one middleware on a bare app: client address, rate, error
pages and status counts."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from gateway.core.metrics import Metrics
from gateway.errors import NotAuthenticated, RateLimited
from gateway.http.caller import client_of
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


async def limited(request: web.Request) -> web.Response:
    raise RateLimited(2)


def app_with(metrics: Metrics, trusted: tuple[str, ...]) -> web.Application:
    networks = tuple(ipaddress.ip_network(t) for t in trusted)
    app = web.Application(middlewares=[gateway_middleware(metrics, networks)])
    app.router.add_get("/limited", limited)
    app.router.add_get("/echo", echo)
    app.router.add_get("/forbidden", forbidden)
    app.router.add_get("/crash", crash)
    app.router.add_get("/json", unauthenticated)
    app.router.add_get("/healthz", metrics_view(metrics))
    return app


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(
    aiohttp_client: MakeClient,
) -> None:
    trusting = await aiohttp_client(app_with(Metrics(), ("127.0.0.0/8",)))
    response = await trusting.get("/echo", headers={"X-Forwarded-For": "192.0.2.5"})
    assert await response.text() == "192.0.2.5"
    untrusting = await aiohttp_client(app_with(Metrics(), ()))
    response = await untrusting.get("/echo", headers={"X-Forwarded-For": "192.0.2.5"})
    assert await response.text() == "127.0.0.1"


async def test_every_answer_is_counted_by_the_status_it_ends_with(
    aiohttp_client: MakeClient,
) -> None:
    metrics = Metrics()
    client = await aiohttp_client(app_with(metrics, ()))
    assert (await client.get("/forbidden")).status == 403  # raised by aiohttp's class
    assert (await client.get("/crash")).status == 500  # a bug
    missing = await client.get("/nowhere")
    assert missing.status == 404  # aiohttp's, made our page
    assert "<address>" in await missing.text()
    limited = await client.get("/limited")  # over a rate of what costs
    assert limited.status == 429
    assert limited.headers["Retry-After"] == "2"
    assert await limited.text() == "Response: Error\r\nMessage: Too many requests\r\n\r\n"
    assert (await client.get("/healthz")).status == 200
    for status in ("403", "500", "404", "429", "200"):
        counted = metrics.registry.get_sample_value("ajam_http_requests_total", {"status": status})
        assert counted == 1


async def test_an_http_level_error_becomes_its_page(aiohttp_client: MakeClient) -> None:
    client = await aiohttp_client(app_with(Metrics(), ()))
    response = await client.get("/json")
    assert response.status == 401
    assert "WWW-Authenticate" in response.headers
