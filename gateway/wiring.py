"""``build_gateway(config)``: every part of one instance, made and wired.

One event log, one session store, one AMI link and one login gate, shared by
every door: the AJAM handler and its callers, the long polls, the push
fan-out, the AMI front door, the call history and the metrics.  Nothing
here runs: the app (``gateway.app``) starts and stops the background work
in its cleanup contexts, and tests build the same parts without an app
(``tests/support/memcore.py``).
"""

from __future__ import annotations

import functools
import secrets
import time
from dataclasses import dataclass

from gateway.access.accounts import Accounts
from gateway.access.identity import Identity
from gateway.ami.client import AmiClient
from gateway.amiserver import AmiDoor, DoorParts
from gateway.amiserver.settings import DEFAULT_BANNER
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
from gateway.core.waitevent import Polls
from gateway.history.service import HistoryService
from gateway.http.caller import CallerResolver
from gateway.http.digestauth import DigestAuth
from gateway.push.fanout import Fanout
from gateway.push.metrics import PushCollector, delivery_histogram


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
