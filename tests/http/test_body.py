"""Issue 11, item 3: a POST body is read whole, or refused; never acted on in part.

A body that arrives in several TCP reads (a slow link, a client that
trickles it) must run its whole action or get an error: before the fix the
AJAM and ``/history`` readers took what the first read held, so
``action=Ori`` + (0.5 s) ``ginate&...`` answered ``Invalid/unknown command:
Ori`` and a UserEvent sent at 2 KB/s reached AMI with half its headers.
Every test talks raw HTTP/1.1 over a loopback socket to the gateway as
``ajam-gateway`` runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from gateway.ami.message import header
from gateway.simulator import Simulator
from tests.support.harness import COOKIE, new_app, served
from tests.support.historyapp import CALLS, fed, history_section
from tests.support.hostile import serving

FORM = b"application/x-www-form-urlencoded"


@contextlib.asynccontextmanager
async def gateway(simulator: Simulator, **sections: object) -> AsyncIterator[int]:
    """The gateway on loopback; yields its port."""
    app = new_app(simulator.port, **sections)  # type: ignore[arg-type]
    async with served(app) as base:
        yield int(urlsplit(base).port or 0)


async def exchange(
    port: int,
    head: bytes,
    parts: Sequence[bytes],
    pause: float,
    *,
    close_early: bool = False,
) -> bytes:
    """Send ``head`` then each of ``parts`` ``pause`` s apart (until the server
    closes); the whole answer (b"" when ``close_early``: the client hangs up
    after its last part)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = asyncio.create_task(read_all(reader))
    try:
        writer.write(head)
        await writer.drain()
        with contextlib.suppress(ConnectionError):  # the server may answer and close first
            for part in parts:
                await asyncio.sleep(pause)
                writer.write(part)
                await writer.drain()
        if close_early:
            answer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await answer
            return b""
        async with asyncio.timeout(10):
            return await answer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def read_all(reader: asyncio.StreamReader) -> bytes:
    """What the server sends until it closes (or resets: what came before)."""
    chunks = []
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def post_head(path: bytes, length: int | None, *, cookie: str = "", kind: bytes = FORM) -> bytes:
    lines = [b"POST " + path + b" HTTP/1.1", b"Host: gw", b"Connection: close"]
    lines.append(b"Content-Type: " + kind)
    if length is None:
        lines.append(b"Transfer-Encoding: chunked")
    else:
        lines.append(b"Content-Length: %d" % length)
    if cookie:
        lines.append(b'Cookie: mansession_id="%s"' % cookie.encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


def chunked(parts: Sequence[bytes]) -> list[bytes]:
    """Each part as one chunk, then the last-chunk."""
    return [b"%x\r\n%s\r\n" % (len(part), part) for part in parts] + [b"0\r\n\r\n"]


async def login(port: int) -> str:
    answer = await exchange(
        port,
        b"GET /asterisk/rawman?action=login&username=admin&secret=admin-secret HTTP/1.1\r\n"
        b"Host: gw\r\nConnection: close\r\n\r\n",
        (),
        0,
    )
    head = answer.split(b"\r\n\r\n", 1)[0].decode()
    cookie = next(
        v
        for k, _, v in (line.partition(": ") for line in head.split("\r\n"))
        if k.lower() == "set-cookie"
    )
    match = COOKIE.match(cookie)
    assert match is not None
    return match.group(1)


ORIGINATE = b"ginate&channel=Local/100@test&application=Wait&data=1&async=true"


async def test_an_action_name_split_across_reads_runs_whole(simulator: Simulator) -> None:
    async with gateway(simulator) as port:
        session = await login(port)
        parts = (b"action=Ori", ORIGINATE)
        head = post_head(b"/asterisk/rawman", sum(map(len, parts)), cookie=session)
        answer = await exchange(port, head + parts[0], parts[1:], 0.5)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert answer.endswith(
            b"Response: Success\r\nMessage: Originate successfully queued\r\n\r\n"
        )
        originates = [m for m in simulator.received if m.name.lower() == "originate"]
        assert len(originates) == 1
        assert header(originates[0].fields, "Channel") == "Local/100@test"


USER_HEADERS = 6
VALUE = "v" * 500


def userevent_body(event: str) -> bytes:
    values = "&".join(f"h{n}={n}{VALUE}" for n in range(USER_HEADERS))
    return f"action=UserEvent&userevent={event}&{values}".encode()


async def test_a_userevent_sent_at_2_kb_per_second_reaches_ami_whole(
    simulator: Simulator,
) -> None:
    body = userevent_body("Slow")
    parts = [body[i : i + 512] for i in range(0, len(body), 512)]  # 2 KB/s: 512 B per 0.25 s
    async with gateway(simulator) as port:
        session = await login(port)
        head = post_head(b"/asterisk/rawman", len(body), cookie=session)
        answer = await exchange(port, head, parts, 0.25)
        assert answer.endswith(b"Response: Success\r\nMessage: Event Sent\r\n\r\n")
        sent = [m for m in simulator.received if m.name.lower() == "userevent"]
        assert len(sent) == 1
        for n in range(USER_HEADERS):
            assert header(sent[0].fields, f"h{n}") == f"{n}{VALUE}"


async def test_a_trickled_chunked_body_runs_whole(simulator: Simulator) -> None:
    async with gateway(simulator) as port:
        session = await login(port)
        head = post_head(b"/asterisk/rawman", None, cookie=session)
        answer = await exchange(port, head, chunked((b"action=Ori", ORIGINATE)), 0.3)
        assert answer.endswith(b"Message: Originate successfully queued\r\n\r\n")
        assert sum(1 for m in simulator.received if m.name.lower() == "originate") == 1


async def test_a_body_cut_by_a_hang_up_runs_nothing(simulator: Simulator) -> None:
    body = userevent_body("Cut")
    async with gateway(simulator) as port:
        session = await login(port)
        head = post_head(b"/asterisk/rawman", len(body), cookie=session)
        await exchange(port, head + body[: len(body) // 2], (), 0, close_early=True)
        await asyncio.sleep(0.3)  # the handler had the half body long ago
        ping = await exchange(
            port,
            b"GET /asterisk/rawman?action=ping HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n"
            b'Cookie: mansession_id="%s"\r\n\r\n' % session.encode(),
            (),
            0,
        )
        assert b"Ping: Pong" in ping
        assert [m for m in simulator.received if m.name.lower() == "userevent"] == []


async def test_a_chunked_body_over_max_body_is_refused_and_runs_nothing(
    simulator: Simulator,
) -> None:
    body = userevent_body("Big")
    async with gateway(simulator, limits={"max_body": 1024}) as port:
        session = await login(port)
        head = post_head(b"/asterisk/rawman", None, cookie=session)
        parts = chunked([body[i : i + 400] for i in range(0, len(body), 400)])
        answer = await exchange(port, head, parts, 0.05)
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert [m for m in simulator.received if m.name.lower() == "userevent"] == []


async def test_a_trickled_history_body_is_read_whole(simulator: Simulator, tmp_path: Path) -> None:
    app = new_app(simulator.port, history=history_section(tmp_path / "h.sqlite3"))
    async with served(app) as base:
        port = int(urlsplit(base).port or 0)
        client = _Fed(app)
        await fed(simulator, client, CALLS)  # type: ignore[arg-type]
        session = await login(port)
        body = b'{"number": "+7 912 000-00-00", "limit": 10}'
        head = post_head(
            b"/asterisk/history?mansession_id=" + quote(session).encode(),
            len(body),
            kind=b"application/json",
        )
        answer = await exchange(port, head, (body[:9], body[9:]), 0.4)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer
        assert b'"count": 4' in answer


class _Fed:
    """What ``historyapp.fed`` reads of a client: its app."""

    def __init__(self, app: object) -> None:
        self.app = app


async def test_a_hang_up_mid_body_is_no_error_in_the_log(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    body = userevent_body("Gone")
    async with gateway(simulator) as port:
        session = await login(port)
        head = post_head(b"/asterisk/rawman", len(body), cookie=session)
        await exchange(port, head + body[:100], (), 0, close_early=True)
        await asyncio.sleep(0.3)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_body_slower_than_body_timeout_gets_408_and_runs_nothing(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The server's body timeout raises through the reader: never swallowed."""
    body = userevent_body("Late")  # ~3 KB at 2 KB/s: 1.5 s, over a 1 s body_timeout
    parts = [body[i : i + 512] for i in range(0, len(body), 512)]
    async with serving(simulator, body_timeout=1.0) as port:
        session = await login(port)
        head = post_head(b"/asterisk/rawman", len(body), cookie=session)
        answer = await exchange(port, head, parts, 0.25)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"Connection: close\r\n" in answer
    assert [m for m in simulator.received if m.name.lower() == "userevent"] == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_broken_chunked_body_runs_nothing(simulator: Simulator) -> None:
    """aiohttp's C parser does not tell the handler that a chunk size was
    garbage; the body never ends, and the body timeout answers it."""
    body = userevent_body("Broken")
    async with serving(simulator, body_timeout=1.0) as port:
        session = await login(port)
        head = post_head(b"/asterisk/rawman", None, cookie=session)
        first = b"%x\r\n%s\r\n" % (100, body[:100])
        answer = await exchange(port, head + first, (b"zz\r\n" + body[100:],), 0.2)
    assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 408 "))
    assert [m for m in simulator.received if m.name.lower() == "userevent"] == []
