"""``create_app(config)``: the gateway as an aiohttp app.

The parts come from ``gateway.wiring.build_gateway``; here they get their
routes (AJAM, history, recordings, push, health, metrics, static files),
the middlewares, and the background work, which lives in ``cleanup_ctx``
(the AMI client, the push fan-out, the AMI door, the session reaper), so it
starts and stops with the app, and tests get the same wiring as production.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

from aiohttp import web

from gateway.cli.listen import listening
from gateway.config import Config
from gateway.core.numbering import Numbering
from gateway.core.waitevent import Notifier
from gateway.http.ajam import AJAM_FORMATS, AjamHandler, AjamSettings
from gateway.http.cors import CorsPolicy, install_cors
from gateway.http.history import HistoryRoute, install_history
from gateway.http.metricsview import metrics_view
from gateway.http.middleware import close_when_draining, gateway_middleware
from gateway.http.parserlimits import server_limits
from gateway.http.recording import RecordingRoute, install_recordings
from gateway.http.respond import CookiePolicy
from gateway.http.staticfiles import StaticFiles, StaticSettings
from gateway.push.routes import install_push
from gateway.push.sse import SseRoute
from gateway.push.ws import WsRoute
from gateway.tasks import cancel_and_wait
from gateway.wiring import Gateway, build_gateway

REAP_INTERVAL: Final = 1.0
"""Expired sessions are swept every second: cheap, and close to their deadline."""


GATEWAY: Final = web.AppKey("gateway", Gateway)
AJAM: Final = web.AppKey("ajam", AjamHandler)
"""The AJAM handler, whose size limits a SIGHUP reload replaces."""
PUSH_ROUTES: Final = web.AppKey("push_routes", tuple[SseRoute, WsRoute])
"""The push routes (when ``[push] enabled``), whose ``max_query`` a reload replaces."""


async def _phase_ctx(app: web.Application) -> AsyncIterator[None]:
    """SERVING once the app has started; STOPPED once everything after it cleaned up."""
    lifecycle = app[GATEWAY].lifecycle
    lifecycle.serve()
    yield
    lifecycle.stop()


async def _ami_ctx(app: web.Application) -> AsyncIterator[None]:
    gateway = app[GATEWAY]
    batches = gateway.batches.listen()
    notifier = Notifier(batches, gateway.sessions)
    task = asyncio.create_task(gateway.ami.run(), name="ami-client")
    yield
    notifier.close()
    batches.close()
    await gateway.ami.close()
    await cancel_and_wait(task)


async def _push_ctx(app: web.Application) -> AsyncIterator[None]:
    """The fan-out: after the polls' notifier on the log's batches; its
    streams end (``shutdown``) before the app stops."""
    gateway = app[GATEWAY]
    task = asyncio.create_task(gateway.push.run(gateway.batches), name="push-fanout")
    yield
    gateway.push.drain()
    await cancel_and_wait(task)


async def _ami_door_ctx(app: web.Application) -> AsyncIterator[None]:
    """The AMI door listens while the app runs; it closes before the AMI link."""
    door = app[GATEWAY].ami_door
    if door is None:
        yield
        return
    settings = app[GATEWAY].config.ami_server
    with listening(
        "AMI",
        settings.host,
        settings.port,
        host_setting="[ami_server] host",
        port_setting="[ami_server] port",
    ):
        await door.start()
    yield
    await door.close()


async def _reaper_ctx(app: web.Application) -> AsyncIterator[None]:
    sessions = app[GATEWAY].sessions

    async def reap() -> None:
        while True:
            await asyncio.sleep(REAP_INTERVAL)
            sessions.reap(time.monotonic())

    task = asyncio.create_task(reap(), name="session-reaper")
    yield
    await cancel_and_wait(task)


async def _end_polls(app: web.Application) -> None:
    """On shutdown every held waitevent gets a well-formed empty reply, and
    every push stream its end."""
    gateway = app[GATEWAY]
    for session in gateway.sessions.waiting():
        if session.waiter is not None:
            session.waiter.kick()
    gateway.push.drain()


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def readyz(request: web.Request) -> web.Response:
    """Ready or not, and why in one word: it needs no login, so it never names
    the AMI account, address or error (the AMI client logs those)."""
    gateway = request.app[GATEWAY]
    if gateway.lifecycle.closing:
        return web.Response(status=503, text="not ready: draining\n")
    if gateway.ami.ready:
        return web.Response(text="ready\n")
    return web.Response(status=503, text="not ready: ami-down\n")


def _install_push(app: web.Application, gateway: Gateway, cors: CorsPolicy) -> None:
    """``{prefix}/events`` and ``{prefix}/ws`` (``[push] enabled``)."""
    max_query = gateway.config.limits.max_query
    sse = SseRoute(
        fanout=gateway.push,
        callers=gateway.callers,
        sessions=gateway.sessions,
        log=gateway.log,
        max_query=max_query,
    )
    ws = WsRoute(
        fanout=gateway.push,
        callers=gateway.callers,
        sessions=gateway.sessions,
        dispatcher=gateway.dispatcher,
        log=gateway.log,
        metrics=gateway.metrics,
        cors=cors,
        max_query=max_query,
    )
    install_push(app, gateway.config.http.prefix, sse, ws)
    app[PUSH_ROUTES] = (sse, ws)


def create_app(config: Config, *, numbering: Numbering | None = None) -> web.Application:
    gateway = build_gateway(config, numbering=numbering)
    app = web.Application(
        middlewares=[
            gateway_middleware(gateway.metrics, config.http.trusted_proxies),
        ],
        handler_args=server_limits(config.limits),
    )
    app[GATEWAY] = gateway
    app.cleanup_ctx.append(_phase_ctx)  # first in, last out: STOPPED after everything
    # Before the AMI context (so it stops after AMI) and before the catch-all route.
    route = HistoryRoute(
        gateway.history,
        gateway.callers,
        max_body=config.limits.max_body,
        max_query=config.limits.max_query,
    )
    install_history(app, route, config.http.prefix, gateway.metrics.registry)
    recordings = RecordingRoute(
        gateway.history,
        gateway.callers,
        max_query=config.limits.max_query,
        send_timeout=config.limits.send_timeout,
    )
    install_recordings(app, recordings, config.http.prefix)
    app.cleanup_ctx.append(_ami_ctx)
    app.cleanup_ctx.append(_push_ctx)
    app.cleanup_ctx.append(_ami_door_ctx)
    app.cleanup_ctx.append(_reaper_ctx)
    app.on_shutdown.append(_end_polls)
    app.on_response_prepare.append(close_when_draining(gateway.lifecycle))
    http = config.http
    handler = AjamHandler(
        AjamSettings(
            http.prefix, config.limits.max_query, config.limits.max_body, config.limits.send_timeout
        ),
        gateway.dispatcher,
        gateway.callers,
        CookiePolicy(
            max_age=http.httptimeout,
            path=http.cookie_path,
            samesite=http.cookie_samesite,
            secure=http.cookie_secure,
            httponly=http.cookie_httponly,
        ),
        gateway.metrics,
        gateway.send_budget,
    )
    cors = CorsPolicy.of(http.cors_origins, http.cors_credentials, http.cors_max_age)
    install_cors(app, cors)
    app[AJAM] = handler
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view(gateway.metrics))
    if config.push.enabled:
        _install_push(app, gateway, cors)
    # The canonical AJAM paths as plain routes: a dict lookup instead of the
    # catch-all's regex for nearly every request (fanout profile in bench/).
    # Case variants and trailing slashes still reach the same handler below.
    for name in AJAM_FORMATS:
        app.router.add_route("*", f"{http.prefix}/{name}", handler.handle)
    static_dir = Path(http.static_dir) if http.static_dir is not None else None
    StaticFiles(StaticSettings(http.prefix, static_dir), gateway.callers).install(app)
    app.router.add_route("*", "/{tail:.*}", handler.handle)
    return app
