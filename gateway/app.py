"""``create_app(config)``: wires the gateway's parts into an aiohttp app.

Background work lives in ``cleanup_ctx`` (the AMI client, the session
reaper), so it starts and stops with the app, and tests get the same wiring
as production.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from gateway.accounts import Accounts
from gateway.ami.client import AmiClient
from gateway.ami.message import Message
from gateway.config import Config
from gateway.dispatch import AmiFacts, Dispatcher
from gateway.events import EventLog
from gateway.history.service import HistoryService, install_history
from gateway.http.ajam import AJAM_FORMATS, AjamHandler, AjamSettings
from gateway.http.cors import CorsPolicy, install_cors
from gateway.http.digestauth import DigestAuth
from gateway.http.metricsview import metrics_view
from gateway.http.middleware import gateway_middleware
from gateway.http.respond import CookiePolicy
from gateway.http.server import server_limits
from gateway.metrics import Metrics
from gateway.nonces import NonceStore
from gateway.ratelimit import LoginGuard, TokenBuckets
from gateway.security import SecurityEvents
from gateway.sendbudget import SendBudget
from gateway.sessions import Session, SessionStore
from gateway.tasks import cancel_and_wait
from gateway.waitevent import Notifier

REAP_INTERVAL: Final = 1.0
"""Expired sessions are swept every second: cheap, and close to their deadline."""


@dataclass(slots=True)
class Gateway:
    """The running parts of one instance, reachable through ``app[GATEWAY]``."""

    config: Config
    log: EventLog
    sessions: SessionStore
    accounts: Accounts
    ami: AmiClient
    dispatcher: Dispatcher
    facts: AmiFacts
    security: SecurityEvents
    started: float
    metrics: Metrics
    history: HistoryService
    address_rate: TokenBuckets[str]


GATEWAY: Final = web.AppKey("gateway", Gateway)
AJAM: Final = web.AppKey("ajam", AjamHandler)
"""The AJAM handler, whose size limits a SIGHUP reload replaces."""


def _link_event(up: bool, reason: str) -> Message:
    if up:
        return Message.of(("Event", "GatewayAMIUp"), ("Privilege", "system,all"))
    return Message.of(("Event", "GatewayAMIDown"), ("Privilege", "system,all"), ("Reason", reason))


def build_gateway(config: Config) -> Gateway:
    log = EventLog(config.events.ring_size, config.events.ring_bytes)
    facts = AmiFacts()
    sessions = SessionStore(
        node_id=config.http.node_id,
        httptimeout=config.http.httptimeout,
        unauth_timeout=config.http.unauth_timeout,
        max_sessions=config.limits.max_sessions,
    )
    accounts = Accounts(config)
    metrics = Metrics(action_name=lambda name: accounts.permissions.canonical(name))

    def on_event(message: Message, owner: str | None) -> None:
        metrics.events_received += 1
        if message.name == "FullyBooted":
            facts.uptime = int(message.get("Uptime") or 0)
            facts.last_reload = int(message.get("LastReload") or 0)
            facts.at = time.monotonic()
        log.append(message, owner)
        history.on_event(message)

    def on_link(up: bool, reason: str) -> None:
        log.append(_link_event(up, reason))

    async def on_login(client: AmiClient) -> None:
        answer = await client.send([("Action", "ListCommands")])
        accounts.learn_actions(answer[0])

    ami = AmiClient(
        config.ami,
        node_id=config.http.node_id,
        on_event=on_event,
        on_link=on_link,
        on_login=on_login,
    )
    security = SecurityEvents(log)
    limits = config.limits
    dispatcher = Dispatcher(
        accounts=accounts,
        ami=ami,
        log=log,
        sessions=sessions,
        security=security,
        login_fail_delay=config.limits.login_fail_delay,
        waitevent_max=config.waitevent_cap(),
        facts=facts,
        login_guard=LoginGuard(
            limits.login_failures_per_address,
            limits.login_failures_per_user_address,
            limits.login_failure_window,
        ),
        session_rate=TokenBuckets[str](limits.rate_per_session),
        metrics=metrics,
        reply_bytes=config.events.reply_bytes,
        send_budget=SendBudget(limits.queued_bytes),
    )
    metrics.watch(sessions, ami)
    metrics.watch_memory(log, dispatcher.send_budget)
    metrics.watch_logins(security)
    history = HistoryService(config, dispatcher)  # on_event reads it only once AMI runs
    return Gateway(
        config,
        log,
        sessions,
        accounts,
        ami,
        dispatcher,
        facts,
        security,
        time.monotonic(),
        metrics,
        history,
        TokenBuckets[str](limits.rate_per_address),
    )


async def _ami_ctx(app: web.Application) -> AsyncIterator[None]:
    gateway = app[GATEWAY]
    notifier = Notifier(gateway.log, gateway.sessions)
    task = asyncio.create_task(gateway.ami.run(), name="ami-client")
    yield
    notifier.close()
    await gateway.ami.close()
    await cancel_and_wait(task)


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
    """On shutdown every held waitevent gets a well-formed empty reply."""
    sessions = app[GATEWAY].sessions
    for session in sessions.waiting():
        if session.waiter is not None:
            session.waiter.kick()


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def readyz(request: web.Request) -> web.Response:
    """Ready or not, and why in one word: it needs no login, so it never names
    the AMI account, address or error (the AMI client logs those)."""
    gateway = request.app[GATEWAY]
    if gateway.dispatcher.draining:
        return web.Response(status=503, text="not ready: draining\n")
    if gateway.ami.ready:
        return web.Response(text="ready\n")
    return web.Response(status=503, text="not ready: ami-down\n")


async def _close_when_draining(request: web.Request, response: web.StreamResponse) -> None:
    """While draining, every reply closes its connection: nginx then never
    sends a request down a keep-alive connection that is about to be closed."""
    if request.app[GATEWAY].dispatcher.draining:
        response.force_close()
        response.headers["Connection"] = "close"  # aiohttp has already built its own


def _digest_auth(gateway: Gateway) -> DigestAuth:
    sessions, http = gateway.sessions, gateway.config.http

    def alive(session: Session) -> bool:
        return sessions.get(session.id, time.monotonic()) is session

    nonces = NonceStore(
        node_id=http.node_id,
        lifetime=http.digest_nonce_lifetime,
        max_pending=gateway.config.limits.digest_pending_nonces,
        alive=alive,
    )
    return DigestAuth(gateway.dispatcher, gateway.accounts, nonces, http.digest_realm)


def create_app(config: Config) -> web.Application:
    gateway = build_gateway(config)
    app = web.Application(
        middlewares=[
            gateway_middleware(gateway.metrics, config.http.trusted_proxies, gateway.address_rate),
        ],
        handler_args=server_limits(config.limits),
    )
    app[GATEWAY] = gateway
    # Before the AMI context (so it stops after AMI) and before the catch-all route.
    install_history(app, gateway.history, config.http.prefix, gateway.metrics.registry)
    app.cleanup_ctx.append(_ami_ctx)
    app.cleanup_ctx.append(_reaper_ctx)
    app.on_shutdown.append(_end_polls)
    app.on_response_prepare.append(_close_when_draining)
    http = config.http
    handler = AjamHandler(
        AjamSettings(
            http.prefix, config.limits.max_query, config.limits.max_body, config.limits.send_timeout
        ),
        gateway.dispatcher,
        gateway.sessions,
        CookiePolicy(
            max_age=http.httptimeout,
            path=http.cookie_path,
            samesite=http.cookie_samesite,
            secure=http.cookie_secure,
            httponly=http.cookie_httponly,
        ),
        digest=_digest_auth(gateway),
    )
    install_cors(app, CorsPolicy.of(http.cors_origins, http.cors_credentials, http.cors_max_age))
    app[AJAM] = handler
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view(gateway.metrics))
    # The canonical AJAM paths as plain routes: a dict lookup instead of the
    # catch-all's regex for nearly every request (fanout profile in bench/).
    # Case variants and trailing slashes still reach the same handler below.
    for name in AJAM_FORMATS:
        app.router.add_route("*", f"{http.prefix}/{name}", handler.handle)
    app.router.add_route("*", "/{tail:.*}", handler.handle)
    return app
