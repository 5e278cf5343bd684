"""The one login gate: every way in checks its credentials and opens its session here.

The Login action (``gateway.core.dispatch``), HTTP Basic
(``gateway.http.basic``, ``/history``) and HTTP Digest
(``gateway.http.digestauth``), and the AMI door's Login (through the
dispatcher, on a session that lives as long as its TCP connection), each
say only how to verify their credentials (``verify``).  The gate does the
rest, the same way for all:

1. the login limits (``LoginGuard``): an attempt from an address, or by a
   user from an address, over them fails at once, its secret never looked
   at (no oracle on a locked login); a secret to check also spends a token
   of its address's ``rate_per_address`` (``CostRates``: 429 over it);
2. the check itself, off the event loop: a salted hash costs ~50 ms of CPU.
   A right plain secret (Login, HTTP Basic) is remembered ``[limits]
   login_cache_ttl`` seconds (``gateway.core.logincache``: an HMAC of user,
   address and secret, never the secret); a repeat within it skips the hash
   but nothing else: the limits before it, the events after it;
3. a failure ends the attempt's session, writes one security event (the
   one the check named: ``InvalidPassword``, ``FailedACL``, ...), waits
   until ``fail_delay`` has passed since the attempt began, and raises
   ``AuthenticationFailed``: one answer and one timing, whatever failed;
4. a right secret during a drain is refused too (``ShuttingDown``: nginx
   passes the login to another instance);
5. ``open``: a logged-in session, made one way for every door: a fresh id
   for a stored session (no fixation), stored now if it was not (room made
   by dropping the oldest session that never logged in; ``SessionLimit``
   and ``TooManySessions`` only when logged-in sessions fill the table),
   the user's rights and filters, no pending challenge, its cursor at the
   log's end, a logged-in life, and one ``SuccessfulAuth``.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable
from typing import NoReturn, Protocol, TypeVar

from gateway.access.identity import Identity
from gateway.core.events import EventLog
from gateway.core.logincache import VerifiedLogins
from gateway.core.phase import Lifecycle
from gateway.core.ratelimit import CostRates, LoginGuard
from gateway.core.replies import Peer
from gateway.core.sessions import Session
from gateway.core.sessionstore import SessionStore
from gateway.errors import AuthenticationFailed, ShuttingDown, TooManySessions

T = TypeVar("T")

SecurityEvent = Callable[[str, Session | None, Peer, str], None]
"""Writes one security event (``gateway.core.security.SecurityEvents``)."""


class Logins(Protocol):
    """What the gate asks of the users (``gateway.access.accounts.Accounts``)."""

    def check_login(
        self, username: str, peer_address: str, *, secret: str | None, md5: tuple[str, str] | None
    ) -> tuple[Identity | None, str]:
        """(identity, "") on success, else (None, security event name)."""
        ...

    def max_sessions(self, username: str) -> int | None: ...


class OwnLogin(enum.Enum):
    """Whether a session's first poll carries its own ``SuccessfulAuth``."""

    SHOWN = "shown"
    """``Action: Login``: the session was there before the event (captures ajam/*_login_*)."""
    HIDDEN = "hidden"
    """Digest: the session starts after it (captures ajam/*_digest_ok)."""


class LoginGate:
    def __init__(
        self,
        *,
        logins: Logins,
        sessions: SessionStore,
        log: EventLog,
        security: SecurityEvent,
        guard: LoginGuard,
        rates: CostRates,
        fail_delay: float = 1.0,
        lifecycle: Lifecycle | None = None,
        verified: VerifiedLogins[Identity] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logins = logins
        self._verified: VerifiedLogins[Identity] = (
            VerifiedLogins() if verified is None else verified  # an empty one is falsy
        )
        self._sessions = sessions
        self._log = log
        self._security = security
        self._guard = guard
        self._rates = rates
        self._fail_delay = fail_delay
        self._lifecycle = lifecycle or Lifecycle()
        self._clock = clock

    @property
    def fail_delay(self) -> float:
        return self._fail_delay

    def configure(self, fail_delay: float) -> None:
        """A reload's ``[limits] login_fail_delay``."""
        self._fail_delay = fail_delay

    def refuse_if_closing(self) -> None:
        """A drain refuses logins: raise ``ShuttingDown`` once it has begun."""
        if self._lifecycle.closing:
            raise ShuttingDown

    async def check(
        self,
        peer: Peer,
        username: str,
        verify: Callable[[], T | str],
        *,
        session: Session | None = None,
    ) -> T:
        """``verify()``'s result, or the failed-login path; ``verify`` returns
        the security event's name for a failure.  ``session`` is the session
        the attempt runs in: a failure ends it and the event names it (None:
        no session yet, ``SessionID`` 0)."""
        return await self._check(peer, username, verify, session, None)

    async def _check(
        self,
        peer: Peer,
        username: str,
        verify: Callable[[], T | str],
        session: Session | None,
        remembered: T | None,
    ) -> T:
        """``check``, with the outcome of the same credentials checked a
        moment ago, if any, in place of ``verify``: the limits still apply."""
        started = self._clock()
        guard = self._guard
        if guard.blocked(username, peer.address, started):
            await self.fail(peer, username, "LoginRateLimited", session=session, started=started)
        if remembered is not None:
            result: T | str = remembered
        else:
            result = await self._verify(username, peer.address, verify)
        if isinstance(result, str):
            guard.failed(username, peer.address, started)
            await self.fail(peer, username, result, session=session, started=started)
        guard.succeeded(username, peer.address)
        self.refuse_if_closing()  # the drain may have begun while the secret was checked
        return result

    async def check_secret(
        self,
        peer: Peer,
        username: str,
        *,
        secret: str | None,
        md5: tuple[str, str] | None = None,
        session: Session | None = None,
    ) -> Identity:
        """A Login's or HTTP Basic's credentials: the user's secret (or MD5
        key) and its permit/deny.  A right plain secret is remembered for
        ``login_cache_ttl``; an MD5 key answers a challenge used once."""

        def verify() -> Identity | str:
            identity, failure = self._logins.check_login(
                username, peer.address, secret=secret, md5=md5
            )
            return failure if identity is None else identity

        if md5 is not None or secret is None:
            self._rates.check(peer.address, self._clock())
            return await self._check(peer, username, verify, session, None)
        verified = self._verified
        key = verified.key(username, peer.address, secret)
        remembered = verified.get(key, self._clock())
        if remembered is None:  # a hash to pay: it counts against the address's rate
            self._rates.check(peer.address, self._clock())
        identity = await self._check(peer, username, verify, session, remembered)
        if remembered is None:
            verified.put(key, identity, self._clock())
        return identity

    async def _verify(self, username: str, address: str, verify: Callable[[], T | str]) -> T | str:
        self._guard.checking(username, address, busy=True)
        try:
            # A salted hash costs ~50 ms of CPU by design: keep it off the event loop.
            return await asyncio.to_thread(verify)
        finally:
            self._guard.checking(username, address, busy=False)

    async def fail(
        self,
        peer: Peer,
        username: str,
        event: str,
        *,
        session: Session | None = None,
        started: float | None = None,
    ) -> NoReturn:
        """The failed-login path: the session ends, the security event is
        written, and ``AuthenticationFailed`` comes ``fail_delay`` after
        ``started`` (by default: now)."""
        began = self._clock() if started is None else started
        self.refuse(peer, username, event, session=session)
        await asyncio.sleep(max(0.0, began + self._fail_delay - self._clock()))
        raise AuthenticationFailed

    def refuse(self, peer: Peer, username: str, event: str, *, session: Session | None) -> None:
        """End the attempt's session and write its security event, at once."""
        if session is not None:
            self._sessions.remove(session)
        self._security(event, session, peer, username)

    def room_for(self, username: str) -> bool:
        """Whether the user may open one more session (its ``max_sessions``)."""
        limit = self._logins.max_sessions(username)
        return limit is None or self._sessions.count_user(username) < limit

    def ensure_room(self, peer: Peer, identity: Identity, session: Session) -> None:
        """Refuse (``SessionLimit``, ``TooManySessions``) a login over the
        user's ``max_sessions``, after its secret was checked."""
        if not self.room_for(identity.username):
            self.refuse(peer, identity.username, "SessionLimit", session=session)
            raise TooManySessions

    def open(
        self,
        session: Session,
        identity: Identity,
        peer: Peer,
        now: float,
        *,
        own_login: OwnLogin = OwnLogin.SHOWN,
    ) -> None:
        """Log ``session`` in as ``identity``, the same way for every door."""
        sessions = self._sessions
        if session.id:  # a one-request (detached) session has none, and stays out of the store
            try:
                sessions.rekey(session, now)  # a fixed id is worthless
            except TooManySessions:  # logged-in sessions fill the table
                self.refuse(peer, identity.username, "SessionLimit", session=session)
                raise
        session.log_in(identity)
        if own_login is OwnLogin.SHOWN:
            session.move_cursor(self._log.last_seq)
        sessions.touch(session, now)
        self._security("SuccessfulAuth", session, peer, identity.username)
        if own_login is OwnLogin.HIDDEN:
            session.move_cursor(self._log.last_seq)
