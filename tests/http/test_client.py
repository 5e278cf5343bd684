"""The client-address middleware on a bare app: what it stores, what it limits."""

from __future__ import annotations

import ipaddress

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from gateway.core.metrics import Metrics
from gateway.core.ratelimit import TokenBuckets
from gateway.http.client import CLIENT_KEY, client_of, peer_address
from gateway.http.middleware import gateway_middleware
from tests.support.harness import MakeClient


async def echo(request: web.Request) -> web.Response:
    return web.Response(text=f"{client_of(request)} {peer_address(request)}")


def app_with(trusted: tuple[str, ...], rate: float) -> web.Application:
    networks = tuple(ipaddress.ip_network(t) for t in trusted)
    app = web.Application(middlewares=[gateway_middleware(Metrics(), networks, TokenBuckets(rate))])
    app.router.add_get("/echo", echo)
    app.router.add_get("/healthz", echo)
    return app


async def test_the_client_address_is_stored_for_later_handlers(
    aiohttp_client: MakeClient,
) -> None:
    client = await aiohttp_client(app_with(("127.0.0.0/8",), 100))
    response = await client.get("/echo", headers={"X-Forwarded-For": "192.0.2.5"})
    assert await response.text() == "192.0.2.5 127.0.0.1"
    untrusted = await aiohttp_client(app_with((), 100))
    response = await untrusted.get("/echo", headers={"X-Forwarded-For": "192.0.2.5"})
    assert await response.text() == "127.0.0.1 127.0.0.1"


async def test_over_the_rate_the_handler_is_not_reached(aiohttp_client: MakeClient) -> None:
    seen: list[str] = []

    async def counting(request: web.Request) -> web.Response:
        seen.append(request[CLIENT_KEY])
        return web.Response(text="ok")

    app = app_with((), 2)
    app.router.add_get("/count", counting)
    client = await aiohttp_client(app)
    responses = [await client.get("/count") for _ in range(12)]
    statuses = [r.status for r in responses]
    assert statuses[:2] == [200, 200]  # the burst
    assert 429 in statuses
    assert all(r.headers["Retry-After"] == "1" for r in responses if r.status == 429)
    assert seen == ["127.0.0.1"] * statuses.count(200)
    assert (await client.get("/healthz")).status == 200  # probes are exempt


def test_client_of_falls_back_to_the_peer_without_the_middleware() -> None:
    request = make_mocked_request("GET", "/x")
    assert client_of(request) == peer_address(request)
