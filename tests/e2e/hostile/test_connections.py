"""Issue 11, item 2: idle and slow connections, and many from one address.

Each attack runs against the production runner (``GatewayRunner``) on real
loopback sockets with small configured timeouts, and while it runs another
client, from another loopback address (127.0.0.2), must still be served.
The 5 s bound on a logged-in Ping under the attack is in test_under_attack.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import pytest

from gateway.config import LimitsConfig
from gateway.core.metrics import Metrics, names
from gateway.errors import ConfigError
from gateway.http.server import ConnectionCounts, peer_key
from gateway.simulator import Simulator
from tests.support.docs import metrics_text
from tests.support.harness import gateway_config
from tests.support.hostile import (
    HEALTHZ,
    RUNNERS,
    close,
    connect,
    served,
    serving,
    until_closed,
)


async def test_a_silent_socket_is_closed_after_header_timeout(simulator: Simulator) -> None:
    async with serving(simulator, header_timeout=0.5, keepalive_timeout=30) as port:
        loop = asyncio.get_running_loop()
        started = loop.time()
        silent = [await connect(port) for _ in range(2)]
        assert (await served(port)).startswith(b"HTTP/1.1 200 OK")  # meanwhile
        for reader, _ in silent:
            assert await until_closed(reader, within=5) == b""  # nothing asked, nothing said
        assert loop.time() - started >= 0.4
        for stream in silent:
            await close(stream)


async def test_a_trickled_head_is_cut_with_408_at_header_timeout(simulator: Simulator) -> None:
    """One byte every 0.2 s: the head would take 30 s; it gets 1 s."""
    async with serving(simulator, header_timeout=1.0, keepalive_timeout=30) as port:
        reader, writer = await connect(port)
        head = b"GET /healthz HTTP/1.1\r\nHost: gw\r\nX-Pad: " + b"a" * 150 + b"\r\n\r\n"

        async def trickle() -> None:
            for byte in head:
                writer.write(bytes([byte]))
                await asyncio.sleep(0.2)

        sender = asyncio.create_task(trickle())
        try:
            assert (await served(port)).startswith(b"HTTP/1.1 200 OK")  # meanwhile
            answer = await until_closed(reader, within=5)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await sender
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert b"Connection: close\r\n" in answer
        await close((reader, writer))


async def test_on_a_kept_alive_connection_the_head_is_timed_from_its_first_byte(
    simulator: Simulator,
) -> None:
    async with serving(simulator, header_timeout=0.6, keepalive_timeout=30) as port:
        reader, writer = await connect(port)
        writer.write(HEALTHZ)
        assert (await reader.readuntil(b"ok\n")).startswith(b"HTTP/1.1 200 OK")
        await asyncio.sleep(1.0)  # idle longer than header_timeout: kept (keepalive_timeout)
        writer.write(HEALTHZ)
        assert (await reader.readuntil(b"ok\n")).startswith(b"HTTP/1.1 200 OK")
        writer.write(b"GET /healthz HTTP/1.1\r\n")  # a head that never ends
        answer = await until_closed(reader, within=5)
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        await close((reader, writer))


async def test_an_idle_kept_alive_connection_is_closed_after_keepalive_timeout(
    simulator: Simulator,
) -> None:
    async with serving(simulator, header_timeout=5, keepalive_timeout=0.5) as port:
        reader, writer = await connect(port)
        writer.write(HEALTHZ)
        assert (await reader.readuntil(b"ok\n")).startswith(b"HTTP/1.1 200 OK")
        assert await until_closed(reader, within=5) == b""  # closed without a word
        await close((reader, writer))


async def test_a_body_that_never_comes_gets_408_at_body_timeout(simulator: Simulator) -> None:
    async with serving(simulator, body_timeout=0.5) as port:
        reader, writer = await connect(port)
        writer.write(
            b"POST /asterisk/rawman HTTP/1.1\r\nHost: gw\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 40\r\n\r\n"
        )
        assert (await served(port)).startswith(b"HTTP/1.1 200 OK")  # meanwhile
        answer = await until_closed(reader, within=5)
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert b"Connection: close\r\n" in answer
        assert len(simulator.received) < 5  # the gateway's own login and ListCommands only
        await close((reader, writer))


async def test_a_body_that_comes_late_but_within_body_timeout_is_served(
    simulator: Simulator,
) -> None:
    async with serving(simulator, body_timeout=2.0) as port:
        reader, writer = await connect(port)
        body = b"action=login&username=admin&secret=admin-secret"
        writer.write(
            b"POST /asterisk/rawman HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        await asyncio.sleep(0.3)
        writer.write(body)
        answer = await until_closed(reader, within=5)
        assert answer.startswith(b"HTTP/1.1 200 OK")
        assert answer.endswith(b"Message: Authentication accepted\r\n\r\n")
        await close((reader, writer))


async def test_a_held_waitevent_outlives_every_timeout(simulator: Simulator) -> None:
    """A long poll is work, not idleness: none of the timeouts cuts it."""
    short: dict[str, Any] = {"header_timeout": 0.3, "keepalive_timeout": 0.3, "body_timeout": 0.3}
    async with serving(simulator, **short) as port:
        reader, writer = await connect(port)
        writer.write(
            b"GET /asterisk/rawman?action=login&username=admin&secret=admin-secret HTTP/1.1\r\n"
            b"Host: gw\r\n\r\n"
        )
        head = await reader.readuntil(b"\r\n\r\n")
        cookie = next(
            line.split(b": ", 1)[1].split(b";")[0]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"set-cookie:")
        )
        await reader.readuntil(b"Authentication accepted\r\n\r\n")
        loop = asyncio.get_running_loop()

        async def poll(timeout: bytes) -> tuple[bytes, float]:
            body = b"action=waitevent&timeout=" + timeout
            writer.write(
                b"POST /asterisk/rawman HTTP/1.1\r\nHost: gw\r\nCookie: " + cookie + b"\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            started = loop.time()
            answer = await asyncio.wait_for(
                reader.readuntil(b"Event: WaitEventComplete\r\n\r\n"), 5
            )
            return answer, loop.time() - started

        await poll(b"0")  # the login's own security event
        answer, held = await poll(b"1.5")
        assert answer.startswith(b"HTTP/1.1 200 OK")
        assert held >= 1.0
        await close((reader, writer))


async def test_one_address_cannot_take_every_connection(simulator: Simulator) -> None:
    """101 sockets from one address against max_connections = 100: the
    default per-address cap (a tenth) refuses most of them, others get in."""
    async with serving(simulator, max_connections=100) as port:
        flood = [await connect(port) for _ in range(101)]
        try:
            assert (await served(port)).startswith(b"HTTP/1.1 200 OK")
            refused = [await until_closed(reader, within=5) for reader, _ in flood[10:]]
            assert all(
                answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n") for answer in refused
            )
            assert refused[0].endswith(b"Too many connections from your address\n")
            for reader, writer in flood[:10]:  # the first ten are served
                writer.write(HEALTHZ)
                assert (await reader.readuntil(b"ok\n")).startswith(b"HTTP/1.1 200 OK")
        finally:
            for stream in flood:
                await close(stream)
        async with asyncio.timeout(5):  # once they are gone, the address gets in again
            while not (await served(port, local=None)).startswith(b"HTTP/1.1 200 OK"):
                await asyncio.sleep(0.01)


async def test_a_trusted_proxy_is_not_capped_per_address(simulator: Simulator) -> None:
    """nginx's connections all come from one address: only max_connections
    bounds them (limit what nginx accepts per client with its limit_conn)."""
    async with serving(
        simulator, http={"trusted_proxies": ["127.0.0.1/32"]}, max_connections=100
    ) as port:
        proxy = [await connect(port) for _ in range(30)]
        try:
            for reader, writer in proxy:
                writer.write(HEALTHZ)
                assert (await reader.readuntil(b"ok\n")).startswith(b"HTTP/1.1 200 OK")
        finally:
            for stream in proxy:
                await close(stream)


async def metric(port: int, line: bytes) -> float:
    """One sample of /metrics, asked from another address; 0 when absent."""
    answer = await served(port, path=b"/metrics")
    for text in answer.split(b"\n"):
        if text.startswith(line + b" "):
            return float(text.rsplit(b" ", 1)[1])
    return 0.0


async def test_a_client_that_reads_nothing_is_dropped_after_send_timeout(
    simulator: Simulator,
) -> None:
    """Thousands of pipelined requests, no answer read: once the server's
    buffers are full for send_timeout, the connection goes."""
    key = b'ajam_http_connections_timed_out_total{timeout="send_timeout"}'
    async with serving(simulator, sndbuf=8192, send_timeout=0.5) as port:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: gw\r\n\r\n" * 1000)
        async with asyncio.timeout(20):
            while await metric(port, key) < 1:  # others are served meanwhile
                await asyncio.sleep(0.1)
        with contextlib.suppress(ConnectionError):
            await until_closed(reader, within=20)  # what was sent, then the end
        await close((reader, writer))


def test_the_new_limits_have_sane_defaults_and_are_checked() -> None:
    limits = LimitsConfig()
    assert (limits.header_timeout, limits.keepalive_timeout) == (10.0, 75.0)
    assert (limits.body_timeout, limits.send_timeout) == (60.0, 60.0)
    assert limits.connections_per_address() == 1000  # a tenth of max_connections
    assert gateway_config(5038, limits={"max_connections": 5}).limits.connections_per_address() == 1
    with pytest.raises(ConfigError, match=r"\[limits\] max_connections_per_address: must not"):
        gateway_config(5038, limits={"max_connections": 100, "max_connections_per_address": 101})
    with pytest.raises(ConfigError, match=r"\[limits\] header_timeout: must be above 0"):
        gateway_config(5038, limits={"header_timeout": 0})


def test_peers_are_counted_by_address() -> None:
    assert peer_key(("::ffff:192.0.2.1", 80, 0, 0)) == "192.0.2.1"  # as the IPv4 client
    assert peer_key(("2001:db8::1", 80, 0, 0)) == "2001:db8::1"
    assert peer_key("") is None  # a unix socket: no address to cap
    assert peer_key(("not-an-address", 1)) is None


async def test_a_reload_changes_the_connection_limits(simulator: Simulator) -> None:
    async with serving(simulator) as port:
        runner = RUNNERS[port]
        runner.configure(LimitsConfig(max_connections_per_address=1))
        held = await connect(port)
        try:
            answer = await served(port, local=None)
            assert answer.endswith(b"Too many connections from your address\n")
        finally:
            await close(held)


def test_the_metrics_page_lists_the_connection_metrics() -> None:
    metrics = Metrics()
    metrics.watch_connections(ConnectionCounts())
    page = metrics_text()
    listed = names(metrics.registry)
    assert "ajam_http_connections_timed_out" in listed
    for name in listed:
        assert f"| `{name}" in page, name


async def test_a_slow_reader_that_keeps_reading_is_not_dropped(simulator: Simulator) -> None:
    async with serving(simulator, sndbuf=8192, send_timeout=1.0) as port:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock)
        count = 300
        writer.write(
            b"GET /healthz HTTP/1.1\r\nHost: gw\r\nX-Pad: %s\r\n\r\n" % (b"p" * 2000) * count
        )
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: gw\r\n\r\n" * count)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
        received = b""
        async with asyncio.timeout(30):
            while chunk := await reader.read(16384):
                received += chunk
                await asyncio.sleep(0.01)  # slow, but never for send_timeout
        assert received.count(b"HTTP/1.1 200 OK") == 2 * count + 1
        await close((reader, writer))
