"""A real browser on another origin: cookie login, long poll, Originate.

Headless Chromium (Debian's ``chromium``; ``.ci/run`` installs it) loads a
page from a second aiohttp server.  Both listen on 127.0.0.1 with different
ports: two *origins* (so CORS applies) but one *site* (cookies ignore the
port), so the gateway's cookie, which sets no SameSite and is therefore Lax
for Chromium, is sent with ``credentials: 'include'``.  With the page on
``localhost`` instead, the request would be cross-site and the cookie would
need ``SameSite=None; Secure``, which means HTTPS.  The page POSTs what it
shows back to its own server, which is more robust than scraping a DOM dump.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.simulator import Simulator
from tests.support.browser import CHROMIUM, chromium
from tests.support.harness import new_app, wait_ready

PAGE = Path(__file__).parents[1] / "data" / "browser" / "page.html"
RESULT_TIMEOUT = 60.0
"""Generous: the page needs about two seconds (a 1 s call and its polls)."""

MakeServer = Callable[[web.Application], Any]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")


def page_app(result: asyncio.Future[dict[str, Any]]) -> web.Application:
    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(PAGE)

    async def report(request: web.Request) -> web.Response:
        if not result.done():
            result.set_result(json.loads(await request.text()))
        return web.Response(text="thanks")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_post("/result", report)
    return app


async def test_page_on_another_origin_sees_its_call(
    simulator: Simulator, aiohttp_server: MakeServer, tmp_path: Path
) -> None:
    result: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    pages: TestServer = await aiohttp_server(page_app(result))
    origin = f"http://127.0.0.1:{pages.port}"
    http = {"cors_origins": [origin], "cors_credentials": True}
    app = new_app(simulator.port, http=http)
    gateway: TestServer = await aiohttp_server(app)
    await wait_ready(app)
    url = f"{origin}/?gateway=http://127.0.0.1:{gateway.port}/asterisk"
    async with chromium(url, tmp_path / "profile"), asyncio.timeout(RESULT_TIMEOUT):
        outcome = await result
    assert outcome["outcome"] == "done", outcome
    shown: list[str] = outcome["events"]
    assert any(
        line.startswith("Event: OriginateResponse") and "Response: Success" in line
        for line in shown
    ), shown
    assert any("CallerIDName: Иван Петров" in line for line in shown), shown
    assert any(line.startswith("Event: Newchannel") for line in shown), shown
    assert any(line.startswith("Event: Hangup") for line in shown), shown
    assert any("Message: Originate successfully queued" in line for line in shown), shown
