from __future__ import annotations

import logging
import socket

import pytest
from aiohttp import ClientSession, web

from gateway.http.accesslog import AccessLogger, redact


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
