"""The gateway's HTTP server: parser limits, our own error pages, no secret in
any log, and the connection limit.  Raw bytes over loopback sockets (the
parser's limits and its redacting filter alone: tests/http/test_parserlimits.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from gateway.config import LimitsConfig
from gateway.http.parserlimits import (
    REQUEST_LINE_ALLOWANCE,
)
from gateway.http.server import GatewayRunner
from gateway.simulator import Simulator
from tests.support.harness import MakeClient, new_app, start

SECRET = b"hunter2-secret"
LIMITS: dict[str, Any] = {"max_query": 1000, "max_headers": 10, "max_header_size": 300}


@contextlib.asynccontextmanager
async def serving(simulator: Simulator, max_connections: int = 100) -> AsyncIterator[int]:
    """The production runner on an ephemeral port; yields the port."""
    runner = GatewayRunner(
        new_app(simulator.port, limits=LIMITS),
        limits=LimitsConfig(
            max_connections=max_connections, max_connections_per_address=max_connections
        ),
        access_log=None,
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def exchange(port: int, data: bytes) -> bytes:
    """Send ``data``, read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        async with asyncio.timeout(5):
            return await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def get(target: bytes, *headers: bytes) -> bytes:
    lines = [b"GET " + target + b" HTTP/1.1", b"Host: gw", *headers, b"", b""]
    return b"\r\n".join(lines)


LOGIN = b"/asterisk/rawman?action=login&username=admin&secret=" + SECRET


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (get(LOGIN + b"\x01"), b"400 Bad Request"),
        (get(LOGIN + b"\xc3\xa9"), b"400 Bad Request"),
        (b"GE\x00T " + LOGIN + b" HTTP/1.1\r\n\r\n", b"400 Bad Request"),
        (get(LOGIN + b"&q=" + b"a" * (1000 + REQUEST_LINE_ALLOWANCE)), b"414 "),
        (get(LOGIN, b"X-Long: " + SECRET + b"b" * 400), b"431 "),
        (get(LOGIN, *(b"X-%d: 1" % i for i in range(20))), b"431 "),
    ],
    ids=["control", "raw-utf8", "method", "line", "header-size", "header-count"],
)
async def test_parser_errors_get_our_page_and_no_secret_is_echoed_or_logged(
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
    request_bytes: bytes,
    status: bytes,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with serving(simulator) as port:
        answer = await exchange(port, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].split(b" ", 1)[1].startswith(status)
    assert b"<address>ajam-gateway</address>" in body
    assert SECRET not in answer
    assert all(SECRET.decode() not in r.getMessage() for r in caplog.records)
    assert all(r.exc_info is None for r in caplog.records if r.name == "gateway.http.server")
    assert any("bad request from 127.0.0.1" in r.getMessage() for r in caplog.records)


async def test_a_query_over_max_query_but_within_the_line_is_414_from_the_handler(
    simulator: Simulator,
) -> None:
    async with serving(simulator) as port:
        answer = await exchange(port, get(LOGIN + b"&q=" + b"a" * 1000, b"Connection: close"))
    assert answer.startswith(b"HTTP/1.1 414 ")
    assert b"Request query too large" in answer
    assert len(simulator.received) < 5  # the gateway's own login and ListCommands only


async def test_plain_aiohttp_server_logs_are_redacted_too(
    simulator: Simulator, aiohttp_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Tests and embedders use aiohttp's own runner: the app's handler_args
    still route its parser errors through the redacting logger."""
    caplog.set_level(logging.DEBUG)
    client = await start(simulator, aiohttp_client)
    port = client.server.port
    assert port is not None
    answer = await exchange(port, get(LOGIN + b"\x01"))
    assert b" 400 " in answer.split(b"\r\n")[0]
    messages = [r.getMessage() for r in caplog.records]
    assert any("Error handling request" in m and "InvalidURLError" in m for m in messages)
    assert all(SECRET.decode() not in m for m in messages)
    assert all(r.exc_info is None for r in caplog.records)


async def test_connections_beyond_the_limit_get_503_and_are_closed(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(simulator, max_connections=2) as port:
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
        for reader, writer in held:  # each is served: keep-alive, no close
            writer.write(get(b"/healthz"))
            assert (await reader.readuntil(b"ok\n")).startswith(b"HTTP/1.1 200 OK")
        refused = await exchange(port, b"")
        assert refused.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert refused.endswith(b"Too many connections\n")
        assert any("max_connections=2" in r.getMessage() for r in caplog.records)
        _, writer = held.pop()
        writer.close()
        await writer.wait_closed()
        async with asyncio.timeout(5):
            while True:  # the server sees the close a moment later
                answer = await exchange(port, get(b"/healthz", b"Connection: close"))
                if b" 200 OK" in answer:
                    break
                await asyncio.sleep(0.01)
        for _, writer in held:
            writer.close()
            await writer.wait_closed()


async def test_other_errors_keep_aiohttps_handling(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("bug")

    app = web.Application()
    app.router.add_get("/broken", broken)
    runner = GatewayRunner(app, limits=LimitsConfig(max_connections=10), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        answer = await exchange(runner.addresses[0][1], get(b"/broken", b"Connection: close"))
    finally:
        await runner.cleanup()
    assert answer.startswith(b"HTTP/1.1 500 Internal Server Error")
    assert any(r.exc_info and "bug" in str(r.exc_info[1]) for r in caplog.records)
