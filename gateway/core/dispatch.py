"""What one client action does, whichever door it came through: a
session-local action, or one AMI action.

Both doors (AJAM over HTTP, ``gateway.http``; the AMI front door,
``gateway.amiserver``) hand each action here with the caller's session and
``Peer``; this module alone decides what runs.  Login, Logoff, Challenge,
WaitEvent, Events and Filter belong to the client's own session and never
reach AMI, where they would change the one shared AMI session for everyone.
Every other action is checked against the user's rights and forwarded.
Errors are raised (``AmiLevelError``) and put on the wire by each door in
one place.  Where the doors differ it is the wire's nature, said here:

* over the rates of what costs Asterisk, an HTTP request is refused (429)
  while an AMI connection's action waits for its tokens (a TCP stream is
  paced, as Asterisk, which reads no further while it is busy);
* WaitEvent on an AMI connection answers at once: its events stream anyway.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Protocol

from gateway.access.astvalues import (
    action_name,
    as_asterisk_reads,
    ascii_lower,
    ast_true,
    event_classes,
    header_value,
    strings_to_mask,
)
from gateway.access.classes import CLASS_BITS
from gateway.access.identity import EventPredicate, Identity
from gateway.ami.codec import validate_action
from gateway.ami.message import Field, Message, header
from gateway.core.facts import AmiFacts
from gateway.core.login import LoginGate
from gateway.core.metrics import Metrics
from gateway.core.ratelimit import CostRates
from gateway.core.replies import Door, Peer, Reply, response
from gateway.core.sessions import Session
from gateway.core.sessionstore import SessionStore
from gateway.core.waitevent import PollContext, stream_reply, wait_for_events
from gateway.errors import (
    AmiLevelError,
    MissingAction,
    NotConnected,
    PermissionDenied,
)

LOCAL_ACTIONS: Final = frozenset({"login", "logoff", "challenge", "waitevent", "events", "filter"})
UNAUTHENTICATED_OK: Final = frozenset({"login", "logoff", "challenge"})
STRIPPED_PARAMS: Final = frozenset({"mansession_id"})
"""Never forwarded: the session id is a credential, not an AMI header."""

CHALLENGE_RANGE: Final = 10**9 - 1
"""1 to 9 decimal digits, as Asterisk's challenge (``%ld`` of ast_random()
cut to its 10-byte buffer); only ever used with a secret."""
ORIGINATE_MARGIN: Final = 5.0
"""Seconds added to an Originate's own ring Timeout before we give up on it."""
ORIGINATE_DEFAULT_MS: Final = 30_000
"""Asterisk's default Originate Timeout (ms) when the client sets none."""
ORIGINATE_MAX_MS: Final = 2**31 - 1
"""Asterisk reads Timeout into a C int; a longer one (or 5,000 digits, which a
float cannot hold) waits this long, not a crash."""


class Accounts(Protocol):
    """The gateway's users and rights (see ``gateway.access.accounts``)."""

    def check_action(self, identity: Identity, action: str, fields: Sequence[Field]) -> None:
        """Raise ``PermissionDenied`` unless the user may run this action."""
        ...

    def add_filter(
        self, current: EventPredicate | None, criteria: str | None, expression: str
    ) -> EventPredicate:
        """The session's filter with one more rule; raises AmiLevelError."""
        ...

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


LocalAction = Callable[[Session, list[Field], Peer, float], Awaitable[Reply]]


class Dispatcher:
    """One AJAM action in the caller's session, at the request's ``now``.

    Everything it uses is handed to it: the users' rights, the AMI link, the
    sessions, the login gate, the long polls, the rates of what costs and
    the metrics.  Nothing reaches through it to them.
    """

    def __init__(
        self,
        *,
        accounts: Accounts,
        ami: Ami,
        sessions: SessionStore,
        gate: LoginGate,
        polls: PollContext,
        rates: CostRates,
        facts: AmiFacts | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._accounts = accounts
        self._ami = ami
        self._sessions = sessions
        self._gate = gate
        self._polls = polls
        self._facts = facts or AmiFacts()
        self._rates = rates
        self._metrics = metrics or Metrics()
        self._local: dict[str, LocalAction] = {
            "login": self._login,
            "logoff": self._logoff,
            "challenge": self._challenge,
            "waitevent": self._waitevent,
            "events": self._events,
            "filter": self._filter,
        }

    async def handle(self, session: Session, fields: list[Field], peer: Peer, now: float) -> Reply:
        """The action's answer.  Its name and ActionID are read as Asterisk
        reads them (``gateway.access.astvalues``), once, here: the local
        actions, the rights, the owner of an Originate and the wire all see
        the action Asterisk would run."""
        fields = [(k, v) for k, v in fields if k.lower() not in STRIPPED_PARAMS]
        validate_action(fields)
        action = action_name(fields)
        if not action:
            raise MissingAction
        fields = as_asterisk_reads(fields)
        name = ascii_lower(action)
        if not session.authenticated and name not in UNAUTHENTICATED_OK:
            raise PermissionDenied
        local = self._local.get(name)
        if local is not None:
            return await local(session, fields, peer, now)
        return await self._forward(session, action, fields, peer, now)

    async def _forward(
        self, session: Session, action: str, fields: list[Field], peer: Peer, now: float
    ) -> Reply:
        assert session.identity is not None
        if not self._accounts.exists(action):
            raise AmiLevelError(
                f"Invalid/unknown command: {action}. Use Action: ListCommands to show available"
                " commands."
            )
        self._accounts.check_action(session.identity, action, fields)
        if not self._ami.ready:
            raise NotConnected
        # What costs Asterisk is counted; over a rate: 429, and nothing is sent.
        # A one-shot (Basic) session lives for this request: its address pays.
        # An AMI connection's action waits for its tokens instead (a stream
        # is paced, never refused).
        size = sum(len(k) + len(v) + 4 for k, v in fields)
        if peer.door is Door.AMI:
            await self._pace(peer.address, session.key, size)
        else:
            self._rates.action(peer.address, session.key if session.id else None, now, size)
        timeout: float | None = None
        sync = False
        if ascii_lower(action) == "originate":
            # Decided as Asterisk reads it; the wire only ever carries one
            # "Async: true": a sync Originate would stall the shared session.
            sync = not ast_true(header_value(fields, "Async"))
            fields = [(k, v) for k, v in fields if ascii_lower(k) != "async"]
            fields.append(("Async", "true"))
            if sync:
                timeout = _originate_timeout(fields)
        started = time.monotonic()
        messages = await self._ami.send(
            fields, owner=session.key, sync_originate=sync, timeout=timeout
        )
        if not sync:  # a sync Originate waits for the call, not for Asterisk
            self._metrics.ami_roundtrip.observe(time.monotonic() - started)
        return Reply(messages)

    async def _pace(self, address: str, session_key: str, size: int) -> None:
        """An AMI connection over its rates: its action waits for the tokens."""
        wait = self._rates.due(address, session_key, time.monotonic(), size)
        while wait:
            await asyncio.sleep(wait)
            wait = self._rates.due(address, session_key, time.monotonic(), size)

    async def _login(self, session: Session, fields: list[Field], peer: Peer, now: float) -> Reply:
        action_id = header(fields, "ActionID")
        if session.authenticated:
            return Reply((response("Success", action_id, ("Message", "Already authenticated")),))
        gate = self._gate
        gate.refuse_if_closing()
        username = header_value(fields, "Username")
        md5: tuple[str, str] | None = None
        if ascii_lower(header_value(fields, "AuthType")) == "md5" and session.challenge:
            md5 = (session.challenge, header_value(fields, "Key"))
        secret = None if md5 else header_value(fields, "Secret")
        identity = await gate.check_secret(peer, username, secret=secret, md5=md5, session=session)
        gate.ensure_room(peer, identity, session)
        gate.open(session, identity, peer, now)
        mask = event_mask(header_value(fields, "Events"))
        if mask is not None:  # set_eventmask leaves the mask alone when it is invalid
            session.set_event_mask(mask)
        head = [response("Success", action_id, ("Message", "Authentication accepted"))]
        system = CLASS_BITS["system"]
        if session.send_events & system and identity.read & system:
            head.append(self._fully_booted(now))
        return Reply(tuple(head), login_session=session.id)

    def _fully_booted(self, now: float) -> Message:
        uptime, reload = self._facts.counted_on(now)
        return Message.of(
            ("Event", "FullyBooted"),
            ("Privilege", "system,all"),
            ("Uptime", str(uptime)),
            ("LastReload", str(reload)),
            ("Status", "Fully Booted"),
        )

    async def _logoff(self, session: Session, fields: list[Field], peer: Peer, now: float) -> Reply:
        self._sessions.remove(session)
        message = response(
            "Goodbye", header(fields, "ActionID"), ("Message", "Thanks for all the fish.")
        )
        return Reply((message,))

    async def _challenge(
        self, session: Session, fields: list[Field], peer: Peer, now: float
    ) -> Reply:
        action_id = header(fields, "ActionID")
        if ascii_lower(header_value(fields, "AuthType")) != "md5":
            raise AmiLevelError("Must specify AuthType")
        self._sessions.keep(session, now)  # the one anonymous request that needs state
        challenge = session.ensure_challenge(lambda: str(secrets.randbelow(CHALLENGE_RANGE) + 1))
        return Reply((response("Success", action_id, ("Challenge", challenge)),))

    async def _events(self, session: Session, fields: list[Field], peer: Peer, now: float) -> Reply:
        raw = strings_to_mask(header_value(fields, "EventMask"))
        if raw < 0:
            raise AmiLevelError("Invalid event mask")
        session.set_event_mask(event_classes(raw))
        state = "On" if raw else "Off"  # Asterisk's own mask, which may hold hookresponse only
        return Reply((response("Success", header(fields, "ActionID"), ("Events", state)),))

    async def _filter(self, session: Session, fields: list[Field], peer: Peer, now: float) -> Reply:
        assert session.identity is not None
        if not session.identity.write & CLASS_BITS["system"]:
            raise PermissionDenied
        operation = ascii_lower(header_value(fields, "Operation"))
        expression = header_value(fields, "Filter")
        if operation != "add":
            raise AmiLevelError("Unknown operation")
        if not expression:
            raise AmiLevelError("No filter specified")
        criteria = header_value(fields, "MatchCriteria") or None
        session.set_filter(self._accounts.add_filter(session.event_filter, criteria, expression))
        return Reply((response("Success", header(fields, "ActionID"), ("Message", "Success")),))

    async def _waitevent(
        self, session: Session, fields: list[Field], peer: Peer, now: float
    ) -> Reply:
        if session.door is Door.AMI:
            return stream_reply(session, fields)
        return await wait_for_events(self._polls, session, fields)


def event_mask(value: str) -> int | None:
    """Asterisk's set_eventmask: the session's classes, or None when Asterisk
    would leave the mask as it is (``value`` is already past skip_blanks)."""
    raw = strings_to_mask(value)
    return None if raw < 0 else event_classes(raw)


def _originate_timeout(fields: Sequence[Field]) -> float:
    raw = header_value(fields, "Timeout").strip()
    if not (raw.isascii() and raw.isdigit()):  # "²" is a digit to isdigit(), not to int()
        ms = ORIGINATE_DEFAULT_MS
    elif len(raw) > len(str(ORIGINATE_MAX_MS)):
        ms = ORIGINATE_MAX_MS
    else:
        ms = min(int(raw), ORIGINATE_MAX_MS)
    return ms / 1000 + ORIGINATE_MARGIN
