"""Graceful shutdown (SIGTERM) and live reload (SIGHUP) of one instance.

A drain refuses new logins (HTTP 503, so nginx passes the login to another
instance), makes ``/readyz`` answer 503, ends every session (a held
waitevent gets a well-formed empty reply, the next request ``Permission
denied``) and gives actions already sent to Asterisk ``drain_time`` to come
back.  The caller then stops the app, whose cleanup logs off AMI.

A reload takes users and limits from a new configuration.  Sessions stay;
a removed user's sessions end, and changed rights apply at once; the login
cache is emptied (a secret may have changed).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Final

from aiohttp import web

from gateway.access.identity import Identity
from gateway.access.rights import address_allowed
from gateway.app import AJAM, GATEWAY, PUSH_ROUTES
from gateway.config import Config
from gateway.core.sessions import Session
from gateway.wiring import Gateway

log = logging.getLogger("gateway.lifecycle")

LINGER: Final = 1.0
"""After the in-flight actions, the listener stays open this long (within
drain_time): a client whose poll was just ended gets its ``Permission
denied`` and its refused login (which nginx passes on) here, not a reset."""

RESTART_ONLY: Final = ("ami", "http", "events", "log", "history", "ami_server")
"""Tables a reload cannot change: the AMI link, the listeners, the ring, the logs,
the call-history backend (its store or database pool lives as long as the app).
So is ``[push] enabled`` (the routes); the rest of ``[push]`` applies at once."""


def begin_drain(gateway: Gateway) -> int:
    """Refuse logins from now on, end every push stream (``shutdown``: a last
    SSE event, a WebSocket close 1001) and every session (an AMI client gets
    ``Event: Shutdown``, then its connection closes); returns how many
    sessions ended."""
    gateway.lifecycle.drain()
    gateway.push.drain()
    if gateway.ami_door is not None:
        gateway.ami_door.stop_listening()
    sessions = list(gateway.sessions)
    for session in sessions:
        gateway.sessions.remove(session)  # kicks its held poll: an empty reply
    return len(sessions)


async def drain(gateway: Gateway, drain_time: float) -> bool:
    """Drain; True when every in-flight AMI action came back in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + drain_time
    ended = begin_drain(gateway)
    log.info("draining: %d sessions ended, %d actions in flight", ended, gateway.ami.pending)
    try:
        async with asyncio.timeout_at(deadline):
            await gateway.ami.wait_idle()
    except TimeoutError:
        log.warning("drain time over: %d AMI actions abandoned", gateway.ami.pending)
        return False
    await asyncio.sleep(min(LINGER, max(0.0, deadline - loop.time())))
    return True


def reload_config(app: web.Application, new: Config) -> list[str]:
    """Apply the users and limits of ``new``; returns warnings for the rest."""
    gateway = app[GATEWAY]
    old = gateway.config
    warnings = [
        f"[{name}] changed: it takes effect only after a restart"
        for name in RESTART_ONLY
        if getattr(old, name) != getattr(new, name)
    ]
    if old.push.enabled != new.push.enabled:
        warnings.append("[push] enabled changed: it takes effect only after a restart")
    push = dataclasses.replace(new.push, enabled=old.push.enabled)
    config = dataclasses.replace(old, users=new.users, limits=new.limits, push=push)
    gateway.config = config
    gateway.accounts.replace_users(config.users)
    _apply_limits(app, config)
    ended = _refresh_sessions(gateway)
    log.info("configuration reloaded: %d users, %d sessions ended", len(config.users), ended)
    return warnings


def _apply_limits(app: web.Application, config: Config) -> None:
    gateway, limits = app[GATEWAY], config.limits
    gateway.sessions.configure(limits.max_sessions, limits.max_unauth_sessions_per_address)
    gateway.gate.configure(limits.login_fail_delay)
    gateway.verified_logins.configure(limits.login_cache_ttl, limits.login_cache_size)
    gateway.polls.configure(config.waitevent_cap())
    gateway.rates.per_address.configure(limits.rate_per_address)
    gateway.rates.per_session.configure(limits.rate_per_session)
    gateway.login_guard.configure(
        limits.login_failures_per_address,
        limits.login_failures_per_user_address,
        limits.login_failure_window,
    )
    gateway.send_budget.limit = limits.queued_bytes
    gateway.push.configure(config.push)
    for route in app.get(PUSH_ROUTES, ()):
        route.max_query = limits.max_query
    handler = app[AJAM]
    handler.settings = dataclasses.replace(
        handler.settings,
        max_query=limits.max_query,
        max_body=limits.max_body,
        send_timeout=limits.send_timeout,
    )


def _refresh_sessions(gateway: Gateway) -> int:
    """New rights for every session; a removed or now-denied user's sessions end."""
    ended = 0
    for session in gateway.sessions:
        if session.identity is None:
            continue
        user = gateway.accounts.user(session.identity.username)
        if user is None or not address_allowed(user, session.address):
            gateway.sessions.remove(session)
            ended += 1
            continue
        _give_identity(session, gateway.accounts.identity(user))
    return ended


def _give_identity(session: Session, identity: Identity) -> None:
    """New rights and a new ceiling of eventfilters; the session's own
    ``Action: Filter`` rules are kept apart (``Session.event_filter``)."""
    session.reidentify(identity)
