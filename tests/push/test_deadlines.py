"""The production runner's connection deadlines (``gateway.http.deadlines``) do
not cut a stream: a push handler at work has no deadline, however quiet."""

from __future__ import annotations

import asyncio
import json

from aiohttp import ClientSession, web

from gateway.config import LimitsConfig
from gateway.http.server import GatewayRunner
from gateway.simulator import Simulator
from tests.support.harness import new_app, user_event, wait_ready
from tests.support.pushclient import EVENTS, cookie, login
from tests.support.sseclient import SseClient

SHORT = 0.3


async def test_quiet_streams_outlive_the_header_keepalive_and_body_timeouts(
    simulator: Simulator,
) -> None:
    limits = {"header_timeout": SHORT, "keepalive_timeout": SHORT, "body_timeout": SHORT}
    app = new_app(simulator.port, limits=limits, push={"heartbeat": 60})
    config = LimitsConfig(header_timeout=SHORT, keepalive_timeout=SHORT, body_timeout=SHORT)
    runner = GatewayRunner(app, limits=config, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        await wait_ready(app)
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        session = await login(base)
        stream = await SseClient.open(base, f"{EVENTS}?events=UserEvent", cookie(session))
        async with ClientSession() as http:
            url = f"{base}/asterisk/ws?events=UserEvent"
            async with http.ws_connect(url, headers=cookie(session)) as ws:
                await asyncio.sleep(6 * SHORT)  # nothing sent either way
                simulator.emit(user_event("Late"))
                (message,) = await stream.events(1)
                assert message.json["UserEvent"] == "Late"
                frame = json.loads((await ws.receive(timeout=5)).data)
                assert frame["event"]["UserEvent"] == "Late"
        assert runner.counts.timed_out == {}
        await stream.close()
    finally:
        await runner.cleanup()
