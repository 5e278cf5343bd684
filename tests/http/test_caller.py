"""The client-address middleware on a bare app: what it stores; it limits nothing
(what costs is counted where it costs: ``gateway.core.ratelimit.CostRates``)."""

from __future__ import annotations

import ipaddress

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from gateway.core.metrics import Metrics
from gateway.http.caller import CLIENT_KEY, client_of, peer_address
from gateway.http.middleware import gateway_middleware
from tests.support.harness import MakeClient


async def echo(request: web.Request) -> web.Response:
    return web.Response(text=f"{client_of(request)} {peer_address(request)}")


def app_with(trusted: tuple[str, ...]) -> web.Application:
    networks = tuple(ipaddress.ip_network(t) for t in trusted)
    app = web.Application(middlewares=[gateway_middleware(Metrics(), networks)])
    app.router.add_get("/echo", echo)
    app.router.add_get("/healthz", echo)
    return app


async def test_the_client_address_is_stored_for_later_handlers(
    aiohttp_client: MakeClient,
) -> None:
    client = await aiohttp_client(app_with(("127.0.0.0/8",)))
    response = await client.get("/echo", headers={"X-Forwarded-For": "192.0.2.5"})
    assert await response.text() == "192.0.2.5 127.0.0.1"
    untrusted = await aiohttp_client(app_with(()))
    response = await untrusted.get("/echo", headers={"X-Forwarded-For": "192.0.2.5"})
    assert await response.text() == "127.0.0.1 127.0.0.1"


async def test_requests_as_such_are_not_counted(aiohttp_client: MakeClient) -> None:
    """Issue 11, item 14: a long poll paces itself; only what costs is limited."""
    seen: list[str] = []

    async def counting(request: web.Request) -> web.Response:
        seen.append(request[CLIENT_KEY])
        return web.Response(text="ok")

    app = app_with(())
    app.router.add_get("/count", counting)
    client = await aiohttp_client(app)
    responses = [await client.get("/count") for _ in range(300)]
    assert {r.status for r in responses} == {200}
    assert seen == ["127.0.0.1"] * 300


def test_client_of_falls_back_to_the_peer_without_the_middleware() -> None:
    request = make_mocked_request("GET", "/x")
    assert client_of(request) == peer_address(request)
