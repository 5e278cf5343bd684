from __future__ import annotations

import logging
import re
import socket

import pytest
from aiohttp import ClientSession, CookieJar, web

from gateway.app import create_app
from gateway.http.accesslog import MAX_TOKEN, AccessLogger, loggable, redact, token
from gateway.simulator import Simulator
from tests.support.harness import gateway_config, served


def test_redact_hides_every_credential() -> None:
    target = "/asterisk/rawman?action=login&username=u&Secret=s3&key=abc&mansession_id=x"
    assert redact(target) == (
        "/asterisk/rawman?action=login&username=u&Secret=***&key=***&mansession_id=***"
    )
    assert redact("/x?secret=a") == "/x?secret=***"
    assert redact("/x?action=ping") == "/x?action=ping"
    assert redact("/x") == "/x"


def test_redact_matches_names_as_asterisk_decodes_them() -> None:
    target = "/x?s%65cret=a&SECRET=b&+key=c&secret&keys=d&my%20secret=e"
    assert redact(target) == "/x?s%65cret=***&SECRET=***&+key=***&secret&keys=d&my%20secret=e"


async def test_access_log_line_has_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/x", ok)
    runner = web.AppRunner(app, access_log_class=AccessLogger)
    await runner.setup()
    site = web.SockSite(runner, socket.create_server(("127.0.0.1", 0)))
    await site.start()
    port = runner.addresses[0][1]
    try:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with ClientSession() as client:
                response = await client.get(f"http://127.0.0.1:{port}/x?secret=hunter2")
                assert response.status == 200
    finally:
        await runner.cleanup()
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert lines
    assert "hunter2" not in lines[0]
    assert '"GET /x?secret=***" 200' in lines[0]


def test_token_keeps_log_lines_unforgeable() -> None:
    assert token("") == "-"
    assert token("admin") == "admin"
    assert token('a b"\n\\') == "a\\x20b\\x22\\x0a\\x5c"
    assert token("x" * 100) == "x" * MAX_TOKEN


def test_a_quote_in_the_target_cannot_end_the_quoted_request() -> None:
    """aiohttp accepts ``"`` and ``\\`` in a request target: they are escaped."""
    target = '/x?secret=a"b&x=" 200 1 1ms login&y=\\'
    assert loggable(target) == "/x?secret=***&x=\\x22\\x20200\\x201\\x201ms\\x20login&y=\\x5c"
    assert loggable("/x?action=ping") == "/x?action=ping"


async def test_gateway_lines_carry_user_and_action(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(gateway_config(simulator.port))
    async with served(app) as url:
        base = f"{url}/asterisk/rawman"
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
                login = await client.get(f"{base}?action=Login&username=admin&secret=admin-secret")
                assert login.status == 200
                assert (await client.get(f"{base}?action=ping")).status == 200
                client.cookie_jar.clear()
                await client.get(f"{base}?action=login&username=admin&secret=wrong")
    records = [r for r in caplog.records if r.name == "aiohttp.access"]
    lines = [r.getMessage() for r in records]
    assert len(lines) == 3
    assert all("admin-secret" not in line and "wrong" not in line for line in lines)
    assert lines[0].startswith('127.0.0.1 admin "GET /asterisk/rawman?action=Login&')
    assert lines[0].endswith(" Login")
    assert re.fullmatch(
        r'127\.0\.0\.1 admin "GET /asterisk/rawman\?action=ping" 200 \d+ \d+\.\dms ping', lines[1]
    )
    assert lines[2].startswith('127.0.0.1 - "GET ')  # a failed login names no user
    assert records[1].__dict__["user"] == "admin"
    assert records[1].__dict__["action"] == "ping"
    assert records[1].__dict__["status"] == 200
