"""What one AJAM request does: session-local actions, or one AMI action.

Login, Logoff, Challenge, WaitEvent, Events and Filter belong to the HTTP
session and never reach AMI, where they would change the one shared AMI
session for everyone.  Every other action is checked against the user's
rights and forwarded.  Errors are raised (``AmiLevelError``) and rendered by
the HTTP layer in one place.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final, NoReturn, Protocol

from gateway.ami.codec import validate_action
from gateway.ami.message import Field, Message, header
from gateway.astvalues import (
    ascii_lower,
    ast_true,
    event_classes,
    header_value,
    strings_to_mask,
)
from gateway.classes import CLASS_BITS
from gateway.errors import (
    AmiLevelError,
    AuthenticationFailed,
    MissingAction,
    NotConnected,
    PermissionDenied,
    RateLimited,
    ShuttingDown,
    TooManySessions,
)
from gateway.events import EventLog
from gateway.metrics import Metrics
from gateway.ratelimit import LoginGuard, TokenBuckets, retry_after
from gateway.replies import Peer, Reply, response
from gateway.sendbudget import DEFAULT_REPLY_BYTES, SendBudget
from gateway.sessions import EventPredicate, Identity, Session, SessionStore
from gateway.waitevent import wait_for_events

LOCAL_ACTIONS: Final = frozenset({"login", "logoff", "challenge", "waitevent", "events", "filter"})
UNAUTHENTICATED_OK: Final = frozenset({"login", "logoff", "challenge"})
STRIPPED_PARAMS: Final = frozenset({"mansession_id"})
"""Never forwarded: the session id is a credential, not an AMI header."""

CHALLENGE_RANGE: Final = 2**31
"""Decimal digits like Asterisk's ast_random(); only ever used with a secret."""
ORIGINATE_MARGIN: Final = 5.0
"""Seconds added to an Originate's own ring Timeout before we give up on it."""
ORIGINATE_DEFAULT_MS: Final = 30_000
"""Asterisk's default Originate Timeout (ms) when the client sets none."""
ORIGINATE_MAX_MS: Final = 2**31 - 1
"""Asterisk reads Timeout into a C int; a longer one (or 5,000 digits, which a
float cannot hold) waits this long, not a crash."""


class Accounts(Protocol):
    """The gateway's users and rights (see ``gateway.accounts``)."""

    def check_login(
        self, username: str, peer_address: str, *, secret: str | None, md5: tuple[str, str] | None
    ) -> tuple[Identity | None, str]:
        """(identity, "") on success, else (None, security event name)."""
        ...

    def check_action(self, identity: Identity, action: str, fields: Sequence[Field]) -> None:
        """Raise ``PermissionDenied`` unless the user may run this action."""
        ...

    def add_filter(
        self, current: EventPredicate | None, criteria: str | None, expression: str
    ) -> EventPredicate:
        """The session's filter with one more rule; raises AmiLevelError."""
        ...

    def max_sessions(self, username: str) -> int | None: ...

    def exists(self, action: str) -> bool:
        """False only when Asterisk's own list says there is no such action."""
        ...


class Ami(Protocol):
    @property
    def ready(self) -> bool: ...

    def send(
        self,
        fields: Sequence[Field],
        *,
        owner: str | None = None,
        sync_originate: bool = False,
        timeout: float | None = None,
    ) -> Awaitable[tuple[Message, ...]]: ...


@dataclass(slots=True)
class AmiFacts:
    """What the gateway learnt from Asterisk's own FullyBooted."""

    uptime: int = 0
    last_reload: int = 0
    at: float = 0.0

    def now(self) -> tuple[int, int]:
        elapsed = int(time.monotonic() - self.at) if self.at else 0
        return self.uptime + elapsed, self.last_reload + elapsed


class Dispatcher:
    def __init__(
        self,
        *,
        accounts: Accounts,
        ami: Ami,
        log: EventLog,
        sessions: SessionStore,
        security: Callable[[str, Session, Peer, str], None],
        login_fail_delay: float = 1.0,
        waitevent_max: float = 50.0,
        waitevent_batch: int = 10_000,
        reply_bytes: int = DEFAULT_REPLY_BYTES,
        send_budget: SendBudget | None = None,
        facts: AmiFacts | None = None,
        login_guard: LoginGuard | None = None,
        session_rate: TokenBuckets[str] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.accounts = accounts
        self.ami = ami
        self.log = log
        self.sessions = sessions
        self.security = security
        self.login_fail_delay = login_fail_delay
        self.waitevent_max = waitevent_max
        self.waitevent_batch = waitevent_batch
        self.reply_bytes = reply_bytes
        self.send_budget = send_budget or SendBudget()
        self.facts = facts or AmiFacts()
        self.login_guard = login_guard
        self.session_rate = session_rate
        self.metrics = metrics or Metrics()
        self.draining = False
        """Set on SIGTERM (``gateway.lifecycle``): logins are refused from then on."""
        self._local: dict[str, Callable[[Session, list[Field], Peer], Awaitable[Reply]]] = {
            "login": self._login,
            "logoff": self._logoff,
            "challenge": self._challenge,
            "waitevent": self._waitevent,
            "events": self._events,
            "filter": self._filter,
        }

    async def handle(self, session: Session, fields: list[Field], peer: Peer) -> Reply:
        self.check_rate(session)
        fields = [(k, v) for k, v in fields if k.lower() not in STRIPPED_PARAMS]
        validate_action(fields)
        action = (header(fields, "Action") or "").strip()
        if not action:
            raise MissingAction
        name = action.lower()
        if not session.authenticated and name not in UNAUTHENTICATED_OK:
            raise PermissionDenied
        local = self._local.get(name)
        if local is not None:
            return await local(session, fields, peer)
        return await self._forward(session, action, fields)

    async def _forward(self, session: Session, action: str, fields: list[Field]) -> Reply:
        assert session.identity is not None
        if not self.accounts.exists(action):
            raise AmiLevelError(
                f"Invalid/unknown command: {action}. Use Action: ListCommands to show available"
                " commands."
            )
        self.accounts.check_action(session.identity, action, fields)
        if not self.ami.ready:
            raise NotConnected
        timeout: float | None = None
        sync = False
        if action.lower() == "originate":
            # Decided as Asterisk reads it; the wire only ever carries one
            # "Async: true": a sync Originate would stall the shared session.
            sync = not ast_true(header_value(fields, "Async"))
            fields = [(k, v) for k, v in fields if ascii_lower(k) != "async"]
            fields.append(("Async", "true"))
            if sync:
                timeout = _originate_timeout(fields)
        started = time.monotonic()
        messages = await self.ami.send(
            fields, owner=session.key, sync_originate=sync, timeout=timeout
        )
        if not sync:  # a sync Originate waits for the call, not for Asterisk
            self.metrics.ami_roundtrip.observe(time.monotonic() - started)
        return Reply(messages)

    def check_rate(self, session: Session) -> None:
        """Requests per second per session: over it, 429 and nothing is sent."""
        if self.session_rate is not None:
            wait = self.session_rate.take(session.key, time.monotonic())
            if wait:
                raise RateLimited(retry_after(wait))

    async def _login(self, session: Session, fields: list[Field], peer: Peer) -> Reply:
        action_id = header(fields, "ActionID")
        if session.authenticated:
            return Reply((response("Success", action_id, ("Message", "Already authenticated")),))
        if self.draining:
            raise ShuttingDown
        username = header(fields, "Username") or ""
        md5: tuple[str, str] | None = None
        if (header(fields, "AuthType") or "").lower() == "md5" and session.challenge:
            md5 = (session.challenge, header(fields, "Key") or "")
        secret = None if md5 else (header(fields, "Secret") or "")
        identity = await self.authenticate(session, peer, username, secret=secret, md5=md5)
        if not self.room_for(identity.username):
            self.sessions.remove(session)
            self.security("SessionLimit", session, peer, identity.username)
            raise TooManySessions
        events = header_value(fields, "Events")
        return self._accept_login(session, identity, events, action_id, peer)

    async def authenticate(
        self,
        session: Session,
        peer: Peer,
        username: str,
        *,
        secret: str | None,
        md5: tuple[str, str] | None = None,
    ) -> Identity:
        """A login's credentials (Login action or HTTP Basic) to the user's
        identity.  A failure, or an attempt over the login limits, removes
        ``session``, raises a security event, waits until the failed-login
        delay has passed since the attempt began and raises
        ``AuthenticationFailed``: one answer, one timing, whatever failed."""
        started = time.monotonic()
        guard = self.login_guard
        if guard is not None and guard.blocked(username, peer.address, started):
            # The secret is not even looked at: no oracle on a locked login.
            await self._fail_login(session, peer, username, "LoginRateLimited", started)
        identity, failure = await self._check_login(username, peer.address, secret, md5)
        if identity is None:
            if guard is not None:
                guard.failed(username, peer.address, started)
            await self._fail_login(session, peer, username, failure, started)
        if guard is not None:
            guard.succeeded(username, peer.address)
        if self.draining:  # the drain began while the secret was being checked
            raise ShuttingDown
        return identity

    async def _check_login(
        self, username: str, address: str, secret: str | None, md5: tuple[str, str] | None
    ) -> tuple[Identity | None, str]:
        guard = self.login_guard
        if guard is not None:
            guard.checking(username, address, busy=True)
        try:
            # A salted hash costs ~50 ms of CPU by design: keep it off the event loop.
            return await asyncio.to_thread(
                self.accounts.check_login, username, address, secret=secret, md5=md5
            )
        finally:
            if guard is not None:
                guard.checking(username, address, busy=False)

    def room_for(self, username: str) -> bool:
        """Whether the user may open one more session (its ``max_sessions``)."""
        limit = self.accounts.max_sessions(username)
        return limit is None or self.sessions.count_user(username) < limit

    async def _fail_login(
        self, session: Session, peer: Peer, username: str, event: str, started: float
    ) -> NoReturn:
        self.sessions.remove(session)
        self.security(event, session, peer, username)
        await asyncio.sleep(max(0.0, started + self.login_fail_delay - time.monotonic()))
        raise AuthenticationFailed

    def _accept_login(
        self,
        session: Session,
        identity: Identity,
        events: str,
        action_id: str | None,
        peer: Peer,
    ) -> Reply:
        self.sessions.rekey(session)
        session.log_in(identity)
        session.challenge = None
        session.cursor = self.log.last_seq
        mask = event_mask(events)
        if mask is not None:  # set_eventmask leaves the mask alone when it is invalid
            session.send_events = mask
        self.sessions.touch(session, time.monotonic())
        self.security("SuccessfulAuth", session, peer, identity.username)
        head = [response("Success", action_id, ("Message", "Authentication accepted"))]
        system = CLASS_BITS["system"]
        if session.send_events & system and identity.read & system:
            head.append(self._fully_booted())
        return Reply(tuple(head), login_session=session.id)

    def _fully_booted(self) -> Message:
        uptime, reload = self.facts.now()
        return Message.of(
            ("Event", "FullyBooted"),
            ("Privilege", "system,all"),
            ("Uptime", str(uptime)),
            ("LastReload", str(reload)),
            ("Status", "Fully Booted"),
        )

    async def _logoff(self, session: Session, fields: list[Field], peer: Peer) -> Reply:
        self.sessions.remove(session)
        message = response(
            "Goodbye", header(fields, "ActionID"), ("Message", "Thanks for all the fish.")
        )
        return Reply((message,))

    async def _challenge(self, session: Session, fields: list[Field], peer: Peer) -> Reply:
        action_id = header(fields, "ActionID")
        if (header(fields, "AuthType") or "").lower() != "md5":
            raise AmiLevelError("Must specify AuthType")
        if not session.challenge:
            session.challenge = str(secrets.randbelow(CHALLENGE_RANGE))
        return Reply((response("Success", action_id, ("Challenge", session.challenge)),))

    async def _events(self, session: Session, fields: list[Field], peer: Peer) -> Reply:
        raw = strings_to_mask(header_value(fields, "EventMask"))
        if raw < 0:
            raise AmiLevelError("Invalid event mask")
        session.send_events = event_classes(raw)
        state = "On" if raw else "Off"  # Asterisk's own mask, which may hold hookresponse only
        return Reply((response("Success", header(fields, "ActionID"), ("Events", state)),))

    async def _filter(self, session: Session, fields: list[Field], peer: Peer) -> Reply:
        assert session.identity is not None
        if not session.identity.write & CLASS_BITS["system"]:
            raise PermissionDenied
        operation = (header(fields, "Operation") or "").lower()
        expression = header(fields, "Filter") or ""
        if operation != "add":
            raise AmiLevelError("Unknown operation")
        if not expression:
            raise AmiLevelError("No filter specified")
        session.event_filter = self.accounts.add_filter(
            session.event_filter, header(fields, "MatchCriteria"), expression
        )
        return Reply((response("Success", header(fields, "ActionID"), ("Message", "Success")),))

    async def _waitevent(self, session: Session, fields: list[Field], peer: Peer) -> Reply:
        return await wait_for_events(self, session, fields)


def event_mask(value: str) -> int | None:
    """Asterisk's set_eventmask: the session's classes, or None when Asterisk
    would leave the mask as it is (``value`` is already past skip_blanks)."""
    raw = strings_to_mask(value)
    return None if raw < 0 else event_classes(raw)


def _originate_timeout(fields: Sequence[Field]) -> float:
    raw = (header(fields, "Timeout") or "").strip()
    if not (raw.isascii() and raw.isdigit()):  # "²" is a digit to isdigit(), not to int()
        ms = ORIGINATE_DEFAULT_MS
    elif len(raw) > len(str(ORIGINATE_MAX_MS)):
        ms = ORIGINATE_MAX_MS
    else:
        ms = min(int(raw), ORIGINATE_MAX_MS)
    return ms / 1000 + ORIGINATE_MARGIN
