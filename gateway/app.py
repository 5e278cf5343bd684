"""``create_app(config)``: wires the gateway's parts into an aiohttp app.

Background work lives in ``cleanup_ctx`` (the AMI client, the session
reaper), so it starts and stops with the app, and tests get the same wiring
as production.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from aiohttp import web

from gateway.access.accounts import Accounts
from gateway.access.identity import Identity
from gateway.ami.client import AmiClient
from gateway.amiserver import AmiDoor, DoorParts
from gateway.amiserver.settings import DEFAULT_BANNER
from gateway.cli.listen import listen_error
from gateway.config import Config
from gateway.core.dispatch import Dispatcher
from gateway.core.eventpath import AmiEventPath, EventBatches
from gateway.core.events import EventLog
from gateway.core.facts import AmiFacts
from gateway.core.login import LoginGate
from gateway.core.logincache import VerifiedLogins
from gateway.core.metrics import Metrics
from gateway.core.nonces import NonceStore
from gateway.core.numbering import LANES, Numbering
from gateway.core.phase import Lifecycle
from gateway.core.ratelimit import CostRates, LoginGuard, TokenBuckets
from gateway.core.security import SecurityEvents
from gateway.core.sendbudget import SendBudget
from gateway.core.sessions import Session
from gateway.core.sessionstore import SessionStore
from gateway.core.waitevent import Notifier, Polls
from gateway.errors import StartupError
from gateway.history.service import HistoryService
from gateway.http.ajam import AJAM_FORMATS, AjamHandler, AjamSettings
from gateway.http.caller import CallerResolver
from gateway.http.cors import CorsPolicy, install_cors
from gateway.http.digestauth import DigestAuth
from gateway.http.history import HistoryRoute, install_history
from gateway.http.metricsview import metrics_view
from gateway.http.middleware import close_when_draining, gateway_middleware
from gateway.http.parserlimits import server_limits
from gateway.http.recording import RecordingRoute, install_recordings
from gateway.http.respond import CookiePolicy
from gateway.http.staticfiles import StaticFiles, StaticSettings
from gateway.push.fanout import Fanout
from gateway.push.metrics import PushCollector, delivery_histogram
from gateway.push.routes import install_push
from gateway.push.sse import SseRoute
from gateway.push.ws import WsRoute
from gateway.tasks import cancel_and_wait

REAP_INTERVAL: Final = 1.0
"""Expired sessions are swept every second: cheap, and close to their deadline."""


@dataclass(slots=True, kw_only=True)
class Gateway:
    """The running parts of one instance, reachable through ``app[GATEWAY]``."""

    config: Config
    lifecycle: Lifecycle
    log: EventLog
    sessions: SessionStore
    accounts: Accounts
    ami: AmiClient
    facts: AmiFacts
    events: AmiEventPath
    """Every AMI event goes through it: facts, log, then its subscribers."""
    batches: EventBatches
    """The log's new events, once per loop iteration, to the polls and the streams."""
    security: SecurityEvents
    login_guard: LoginGuard
    verified_logins: VerifiedLogins[Identity]
    """Right secrets remembered ``login_cache_ttl``; a reload empties it."""
    gate: LoginGate
    """The one way in: Login, HTTP Basic and Digest all check and open here."""
    rates: CostRates
    """What a client may spend per second (``rate_per_session``, ``rate_per_address``)."""
    polls: Polls
    send_budget: SendBudget
    """Bytes of answers being written to clients (``[limits] queued_bytes``)."""
    dispatcher: Dispatcher
    callers: CallerResolver
    """Finds each HTTP request's session, once."""
    metrics: Metrics
    history: HistoryService
    push: Fanout
    """Every push stream (SSE, WebSocket): written once per batch of events."""
    started: float
    ami_door: AmiDoor | None = None
    """The AMI front door (``[ami_server] enabled``), listening once the app starts."""


GATEWAY: Final = web.AppKey("gateway", Gateway)
AJAM: Final = web.AppKey("ajam", AjamHandler)
"""The AJAM handler, whose size limits a SIGHUP reload replaces."""
PUSH_ROUTES: Final = web.AppKey("push_routes", tuple[SseRoute, WsRoute])
"""The push routes (when ``[push] enabled``), whose ``max_query`` a reload replaces."""


async def _learn_actions(accounts: Accounts, client: AmiClient) -> None:
    """At every AMI login: each action's classes from Asterisk's ListCommands."""
    answer = await client.send([("Action", "ListCommands")])
    accounts.learn_actions(answer[0])


def _alive(sessions: SessionStore, session: Session) -> bool:
    """Whether a digest nonce's session still lives (else the nonce is forgotten)."""
    return sessions.get(session.id, time.monotonic()) is session


def boot_numbering() -> Numbering:
    """This boot's event numbers: from the wall clock, in a random lane
    (``gateway.core.numbering``), so that no cursor of another boot or
    instance passes for one of ours."""
    return Numbering.at_boot(time.time(), secrets.randbelow(LANES))


def build_gateway(
    config: Config, *, link: type[AmiClient] = AmiClient, numbering: Numbering | None = None
) -> Gateway:
    """Every part of one instance, wired; ``link`` is the AMI client's class (tests
    put a recording one in its place to run the core in memory), ``numbering``
    the event log's (``boot_numbering()`` unless a test chooses)."""
    limits, http = config.limits, config.http
    lifecycle = Lifecycle()
    log = EventLog(config.events.ring_size, config.events.ring_bytes, numbering or boot_numbering())
    facts = AmiFacts()
    sessions = SessionStore(
        node_id=http.node_id,
        httptimeout=http.httptimeout,
        unauth_timeout=http.unauth_timeout,
        max_sessions=limits.max_sessions,
        max_unauth_per_address=limits.max_unauth_sessions_per_address,
    )
    accounts = Accounts(config.users)
    metrics = Metrics(action_name=accounts.canonical_action)
    events = AmiEventPath(log, facts)
    ami = link(
        config.ami,
        node_id=http.node_id,
        on_event=events.on_event,
        on_link=events.on_link,
        on_login=functools.partial(_learn_actions, accounts),
    )
    security = SecurityEvents(log)
    guard = LoginGuard(
        limits.login_failures_per_address,
        limits.login_failures_per_user_address,
        limits.login_failure_window,
    )
    verified: VerifiedLogins[Identity] = VerifiedLogins(
        limits.login_cache_ttl, limits.login_cache_size
    )
    rates = CostRates(
        TokenBuckets[str](limits.rate_per_session), TokenBuckets[str](limits.rate_per_address)
    )
    gate = LoginGate(
        logins=accounts,
        sessions=sessions,
        log=log,
        security=security,
        guard=guard,
        rates=rates,
        fail_delay=limits.login_fail_delay,
        lifecycle=lifecycle,
        verified=verified,
    )
    send_budget = SendBudget(limits.queued_bytes)
    polls = Polls(
        log,
        sessions,
        metrics,
        waitevent_max=config.waitevent_cap(),
        reply_bytes=config.events.reply_bytes,
        send_budget=send_budget,
    )
    dispatcher = Dispatcher(
        accounts=accounts,
        ami=ami,
        sessions=sessions,
        gate=gate,
        polls=polls,
        facts=facts,
        rates=rates,
        metrics=metrics,
    )
    nonces = NonceStore(
        node_id=http.node_id,
        lifetime=http.digest_nonce_lifetime,
        max_pending=limits.digest_pending_nonces,
        alive=functools.partial(_alive, sessions),
    )
    digest = DigestAuth(
        users=accounts, gate=gate, sessions=sessions, nonces=nonces, realm=http.digest_realm
    )
    callers = CallerResolver(sessions=sessions, log=log, gate=gate, digest=digest, rates=rates)
    metrics.watch(sessions, ami)
    metrics.watch_memory(log, send_budget)
    metrics.watch_logins(security, verified)
    history = HistoryService(config.history.for_node(config.http.node_id))
    events.subscribe(metrics.event_received)
    events.subscribe(history.on_event)
    push = Fanout(
        log=log,
        sessions=sessions,
        budget=send_budget,
        settings=config.push,
        on_delivery=delivery_histogram(metrics.instruments).observe,
    )
    metrics.registry.register(PushCollector(push))
    door = None
    if config.ami_server.enabled:
        door = AmiDoor(
            DoorParts(
                dispatcher=dispatcher,
                sessions=sessions,
                log=log,
                lifecycle=lifecycle,
                metrics=metrics,
                settings=config.ami_server,
                banner=functools.partial(_banner, config.ami_server.banner, ami),
                access_log=config.log.access,
            )
        )
    return Gateway(
        config=config,
        lifecycle=lifecycle,
        log=log,
        sessions=sessions,
        accounts=accounts,
        ami=ami,
        facts=facts,
        events=events,
        batches=EventBatches(log),
        security=security,
        login_guard=guard,
        verified_logins=verified,
        gate=gate,
        rates=rates,
        polls=polls,
        send_budget=send_budget,
        dispatcher=dispatcher,
        callers=callers,
        metrics=metrics,
        history=history,
        push=push,
        started=time.monotonic(),
        ami_door=door,
    )


def _banner(configured: str | None, ami: AmiClient) -> str:
    """The AMI door's greeting: the configured line, else the upstream's own."""
    return configured or ami.banner or DEFAULT_BANNER


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
    try:
        await door.start()
    except OSError as error:
        why = listen_error(
            "AMI",
            settings.host,
            settings.port,
            error,
            host_setting="[ami_server] host",
            port_setting="[ami_server] port",
        )
        raise StartupError(why) from None
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
