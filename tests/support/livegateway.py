"""The gateway in this process as ``ajam-gateway`` runs it, for the browser tests.

``gateway(simulator, **sections)`` serves the app under its production runner
(``GatewayRunner``: ``[limits]``' connection deadlines and caps) on a fixed
port, so that ``stop()`` and ``start()`` put a new instance where the old one
was (a gateway restart, as a browser sees it).  Every ``{prefix}/events``
request is recorded as the gateway answered it: its ``Last-Event-ID``, its
status and its transport, which a test may cut from the server side.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from gateway.app import create_app
from gateway.http.server import GatewayRunner
from gateway.simulator import Simulator
from tests.support.harness import gateway_config, wait_ready
from tests.support.procs import free_port

SHUTDOWN_GRACE: Final = 1.0
"""As ``ajam-gateway``'s: a stop does not wait on held requests for aiohttp's 60 s."""


@dataclass
class StreamSeen:
    """One ``{prefix}/events`` request, as the gateway answered it."""

    last_event_id: str | None
    status: int
    transport: asyncio.Transport | None


@dataclass
class Gateway:
    """The gateway on a fixed port; ``stop`` then ``start`` puts a new instance there."""

    simulator: Simulator
    sections: Mapping[str, Any]
    port: int = field(default_factory=free_port)
    streams: list[StreamSeen] = field(default_factory=list)
    app: web.Application | None = None
    runner: GatewayRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """The app as ``ajam-gateway`` runs it: its own runner, with the
        connection deadlines and caps of ``[limits]``."""
        config = gateway_config(self.simulator.port, **self.sections)
        app = create_app(config)
        app.on_response_prepare.append(self._seen)
        self.app = app
        self.runner = GatewayRunner(app, limits=config.limits, shutdown_timeout=SHUTDOWN_GRACE)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port, reuse_address=True).start()
        await wait_ready(app)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        self.runner = self.app = None

    async def _seen(self, request: web.Request, response: web.StreamResponse) -> None:
        if request.path.endswith("/events"):
            transport = request.transport
            assert transport is None or isinstance(transport, asyncio.Transport)
            seen = StreamSeen(request.headers.get("Last-Event-ID"), response.status, transport)
            self.streams.append(seen)

    def live_streams(self) -> list[StreamSeen]:
        return [s for s in self.streams if s.status == 200 and s.transport is not None]


@contextlib.asynccontextmanager
async def gateway(simulator: Simulator, **sections: Any) -> AsyncIterator[Gateway]:
    running = Gateway(simulator, sections)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
