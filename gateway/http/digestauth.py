"""``/arawman``, ``/amxml``, ``/amanager``: the session of a Digest request, or its 401.

No cookie is read or set on these paths: the nonce names the session, as in
Asterisk.  A request without usable Digest credentials gets a 401 with a
fresh nonce.  Right credentials on a fresh nonce open a session with the
user's own rights; on a used-up, replayed or old nonce they get a 401 with
``stale=true`` and the nonce to use (the client retries without asking the
user).  Wrong credentials take the same path as a failed login: a security
event (``InvalidAccountID``, ``ChallengeResponseFailed``, ``FailedACL``,
``SessionLimit``, ``LoginRateLimited``), the failed-login delay, then a 401;
they count against the login limits like any failed login.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from gateway.access.credentials import digest_ha1_for
from gateway.access.identity import Identity
from gateway.access.rights import address_allowed
from gateway.access.users import UserConfig
from gateway.core.login import LoginGate, OwnLogin
from gateway.core.nonces import Bound, NonceStore, Pending
from gateway.core.replies import Peer
from gateway.core.sessions import Session
from gateway.core.sessionstore import SessionStore
from gateway.errors import AuthenticationFailed, DigestUriMismatch
from gateway.http.digest import DigestAnswer, challenge, parse_authorization, response_matches
from gateway.http.errors import error_page

log = logging.getLogger("gateway.auth")


@dataclass(frozen=True, slots=True)
class Verified:
    """A Digest answer whose credentials are right."""

    answer: DigestAnswer
    user: UserConfig


class Users(Protocol):
    """The users a Digest answer is checked against (``gateway.access.accounts``)."""

    def user(self, username: str) -> UserConfig | None: ...

    def identity(self, user: UserConfig) -> Identity: ...


class DigestAuth:
    def __init__(
        self,
        *,
        users: Users,
        gate: LoginGate,
        sessions: SessionStore,
        nonces: NonceStore,
        realm: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.users = users
        self.gate = gate
        self.sessions = sessions
        self.nonces = nonces
        self.realm = realm
        self._clock = clock

    async def session(self, request: web.Request, peer: Peer, now: float) -> Session | web.Response:
        """The request's digest session, or the 401 to answer instead."""
        answer = parse_authorization(request.headers.get("Authorization"))
        if not isinstance(answer, DigestAnswer):
            if answer is not None:
                log.info("digest from %s refused: %s", peer.address, answer.reason)
            return self.unauthorized(now)
        if answer.uri != request.raw_path:
            raise DigestUriMismatch
        method = request.method
        try:
            # Through the login gate: its limits, its delay and its security
            # events, as any failed login.
            verified = await self.gate.check(
                peer, answer.username, lambda: self._check(answer, method, peer)
            )
        except AuthenticationFailed:
            return self.unauthorized(self._clock())  # after the delay: a nonce of that moment
        return await self._session_of(verified, peer, now)

    def unauthorized(
        self, now: float, nonce: str | None = None, *, stale: bool = False
    ) -> web.Response:
        nonce = nonce or self.nonces.issue(now)
        response = error_page(401, "Unauthorized", "")
        response.headers["WWW-Authenticate"] = challenge(self.realm, nonce, stale=stale)
        return response

    def _check(self, answer: DigestAnswer, method: str, peer: Peer) -> Verified | str:
        """The verified answer, or the security event of its failure."""
        user = self.users.user(answer.username)
        if user is None:
            return "InvalidAccountID"
        if not address_allowed(user, peer.address):
            return "FailedACL"
        ha1 = digest_ha1_for(user, self.realm, username=answer.username)
        if ha1 is None:
            log.warning("%s has only secret_hash: Digest needs secret or digest_ha1", user.name)
        if ha1 is None or not response_matches(ha1, method, answer):
            return "ChallengeResponseFailed"
        return Verified(answer, user)

    async def _session_of(
        self, verified: Verified, peer: Peer, now: float
    ) -> Session | web.Response:
        answer, user = verified.answer, verified.user
        found = self.nonces.find(answer.nonce, now)
        if isinstance(found, Pending):
            return await self._open(verified, peer, now)
        if found is None or found.binding.username != user.name:
            return self.unauthorized(now, stale=True)
        return self._continue(found, answer.nc, now)

    def _continue(self, found: Bound, nc: int, now: float) -> Session | web.Response:
        binding = found.binding
        if not found.current:
            return self.unauthorized(now, binding.nonce, stale=True)
        if not self.nonces.use(binding, nc, now):
            return self.unauthorized(now, self.nonces.renew(binding, now), stale=True)
        self.sessions.touch(binding.session, now)
        return binding.session

    async def _open(self, verified: Verified, peer: Peer, now: float) -> Session | web.Response:
        user, answer = verified.user, verified.answer
        if not self.gate.room_for(user.name):
            try:
                await self.gate.fail(peer, answer.username, "SessionLimit")
            except AuthenticationFailed:
                return self.unauthorized(self._clock())
        session = self.sessions.fresh(peer.address, now, 0)  # stored by the login
        # After its own SuccessfulAuth: a digest session's first waitevent is
        # empty in the captures (ajam/*_digest_ok).
        self.gate.open(session, self.users.identity(user), peer, now, own_login=OwnLogin.HIDDEN)
        self.nonces.bind(answer.nonce, session, user.name, answer.nc, now)
        return session
