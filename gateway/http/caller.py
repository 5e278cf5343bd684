"""Who is calling: the one place an HTTP request's client address and
session are found.

The address first: ``admit``, called by the gateway's one middleware
(``gateway.http.middleware``), finds it once (``gateway.http.clientaddr``:
``X-Forwarded-For`` only behind a trusted proxy) and stores it on the request
for everything after it (the AJAM handler's ``Peer``, the access log, the
rates of what costs: ``gateway.core.ratelimit.CostRates``).  A request itself
is not counted: a long poll paces itself.

Every route that acts for a user (the AJAM paths, ``/history``) asks the
``CallerResolver`` once per request, with one reading of the clock, and gets
a ``Caller``: the session the request runs in, how it was found, and whether
the answer sets the session cookie.  The ways, in order:

* a Digest path: the session its nonce names (``gateway.http.digestauth``),
  or the 401 to answer instead;
* HTTP Basic (``gateway.http.basic``): on a Login, the credentials become
  the Login's; with the same user's session, that session once the
  password is checked; without one, a one-shot session never stored;
* the session the ``mansession_id`` cookie (quoted or not) or parameter
  names (a POST's form body, else its query);
* none, or an unknown one: a fresh unauthenticated session (AJAM only),
  not stored: its id goes out in Set-Cookie as Asterisk's would, but it
  costs nothing until it logs in or takes a challenge (issue 11, item 7).

A push stream (``stream``) needs a logged-in session for its cursor and its
rules: the named one, or, with HTTP Basic and no session, one opened for the
stream's life (``How.STREAM``).

Every credential goes through the login gate (``gateway.core.login``).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from gateway.access.users import Network
from gateway.ami.message import Field, header
from gateway.core.events import EventLog
from gateway.core.login import LoginGate
from gateway.core.ratelimit import CostRates
from gateway.core.replies import Peer
from gateway.core.sessions import Session
from gateway.core.sessionstore import SessionStore
from gateway.errors import CredentialsMismatch, NeedsSession
from gateway.http.basic import (
    BasicCredentials,
    action_name,
    login_fields,
    other_user,
    parse_basic,
)
from gateway.http.clientaddr import client_address
from gateway.http.digestauth import DigestAuth
from gateway.http.params import cookie_session_id, query_parameter, split_target

CLIENT_KEY: Final = web.RequestKey("client", str)
"""The client's address, as the middleware found it."""


def peer_address(request: web.BaseRequest) -> str:
    """The TCP peer's address, '' when the transport is gone."""
    if request.remote:
        return request.remote
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport else None
    return str(peer[0]) if peer else ""


def client_of(request: web.BaseRequest) -> str:
    """The client's address as the middleware found it, else the TCP peer."""
    return request.get(CLIENT_KEY) or peer_address(request)


def admit(request: web.Request, trusted: Sequence[Network]) -> None:
    """Store the client's address on the request."""
    address = peer_address(request)
    if trusted:  # without trusted proxies the header is never read
        forwarded = request.headers.getall("X-Forwarded-For", [])
        address = client_address(address, forwarded, trusted)
    request[CLIENT_KEY] = address


def request_peer(request: web.Request) -> Peer:
    """Who sent the request, as the dispatcher and the security events see it."""
    transport = request.transport
    remote = transport.get_extra_info("peername") if transport else None
    local = transport.get_extra_info("sockname") if transport else None
    address = client_of(request)
    # Behind a proxy the TCP port is the proxy's, not the client's.
    port = int(remote[1]) if remote and str(remote[0]) == address else 0
    return Peer(
        address=address,
        port=port,
        local_address=str(local[0]) if local else "127.0.0.1",
        local_port=int(local[1]) if local else 0,
    )


class How(enum.Enum):
    """How a request's session was found."""

    NEW = "new"
    """No session named, or an unknown one: a fresh, unauthenticated session,
    not stored (``SessionStore.fresh``)."""
    NAMED = "named"
    """The session the ``mansession_id`` cookie or parameter names."""
    BASIC = "basic"
    """HTTP Basic, run in the named session of the same user."""
    ONE_SHOT = "one-shot"
    """HTTP Basic without a session: one action in a session never stored."""
    DIGEST = "digest"
    """The session the Digest nonce names."""
    STREAM = "stream"
    """HTTP Basic without a session on a push stream: a session opened for the
    stream's life.  It is stored (a Logoff, a reload, a drain, ``max_sessions``
    apply to it as to any other), never named by a cookie, and ends with the
    stream: every reconnect logs in again and resumes by its Last-Event-ID."""


COOKIE_WAYS = frozenset({How.NEW, How.NAMED, How.BASIC})
"""The sessions whose cookie an answer sets; a Digest session and a one-shot
one are never named by a cookie."""


@dataclass(frozen=True, slots=True)
class Caller:
    session: Session
    how: How
    fields: list[Field]
    """The action's fields (a Login's credentials taken from HTTP Basic)."""
    now: float
    """The request's one reading of the clock."""

    @property
    def sets_cookie(self) -> bool:
        """Whether the answer carries ``Set-Cookie`` with the session's id (read
        once the action ran: a login gives the session a new one)."""
        return self.how in COOKIE_WAYS


class CallerResolver:
    def __init__(
        self,
        *,
        sessions: SessionStore,
        log: EventLog,
        gate: LoginGate,
        rates: CostRates,
        digest: DigestAuth | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._log = log
        self._gate = gate
        self.digest = digest
        self._rates = rates
        self._clock = clock

    async def ajam(
        self, request: web.Request, fields: list[Field], peer: Peer, *, digest: bool = False
    ) -> Caller | web.Response:
        """The caller of an AJAM request (a Digest path's 401 instead, if so)."""
        now = self._clock()
        if digest:
            assert self.digest is not None  # the Digest paths exist only with it
            found = await self.digest.session(request, peer, now)
            if isinstance(found, web.Response):
                return found
            return Caller(found, How.DIGEST, fields, now)
        credentials = _basic_credentials(request)
        wanted = _wanted(request, _session_parameter(request, fields))
        existing = self._sessions.get(wanted, now) if wanted else None
        if credentials is not None and action_name(fields) == "login":
            fields, credentials = login_fields(fields, credentials, existing), None
        if credentials is not None:
            return await self._basic(credentials, existing, fields, peer, now)
        if existing is None:  # stored only once it logs in or takes a challenge
            session = self._sessions.fresh(peer.address, now, self._log.last_seq, wanted)
            return Caller(session, How.NEW, fields, now)
        self._sessions.touch(existing, now)
        return Caller(existing, How.NAMED, fields, now)

    async def history(
        self, request: web.Request, params: Mapping[str, object], peer: Peer
    ) -> Caller | None:
        """The logged-in caller of a ``/history`` request, None without one.

        The query's ``mansession_id`` counts beside a body's, as for AJAM.  A
        lookup costs a database query: it spends a token of the session's
        and the address's rates.  HTTP Basic is checked as for AJAM; no
        session is kept.
        """
        now = self._clock()
        credentials = _basic_credentials(request)
        if credentials is not None:
            probe = self._sessions.detached(peer.address, now, 0)
            identity = await self._gate.check_secret(
                peer, credentials.username, secret=credentials.password, session=probe
            )
            probe.log_in(identity)
            self._rates.action(peer.address, None, now)
            return Caller(probe, How.ONE_SHOT, [], now)
        given = params.get("mansession_id")
        wanted = given if isinstance(given, str) and given else _query_session(request)
        session = self._named(request, wanted, now)
        if session is None or session.identity is None:
            return None
        self._rates.action(peer.address, session.key, now)
        self._sessions.touch(session, now)  # a reload that removes its user ends the session
        return Caller(session, How.NAMED, [], now)

    async def stream(
        self, request: web.Request, parameter: str | None, peer: Peer
    ) -> Caller | None:
        """The caller of a push stream: a logged-in session, None without one.

        ``parameter`` is the request's ``mansession_id``.  Opening a stream
        spends a token of the session's and the address's rates (a reconnect
        loop cannot spin); a Basic login spends what every login does.
        """
        now = self._clock()
        credentials = _basic_credentials(request)
        existing = self._named(request, parameter, now)
        if credentials is None:
            if existing is None or existing.identity is None:
                return None
            self._rates.action(peer.address, existing.key, now)
            self._sessions.touch(existing, now)
            return Caller(existing, How.NAMED, [], now)
        if existing is not None and existing.identity is not None:
            caller = await self._basic(credentials, existing, [], peer, now)
            self._rates.action(peer.address, existing.key, now)
            return caller
        gate, username = self._gate, credentials.username
        session = self._sessions.fresh(peer.address, now, self._log.last_seq)
        identity = await gate.check_secret(
            peer, username, secret=credentials.password, session=session
        )
        gate.ensure_room(peer, identity, session)
        gate.open(session, identity, peer, now)
        return Caller(session, How.STREAM, [], now)

    def by_cookie(self, request: web.Request) -> Caller | None:
        """The session the cookie names, touched, for an AJAM answer refused
        before its parameters were parsed; None without one (none is made)."""
        now = self._clock()
        session = self._named(request, None, now)
        if session is None:
            return None
        self._sessions.touch(session, now)
        return Caller(session, How.NAMED, [], now)

    def _named(self, request: web.Request, parameter: str | None, now: float) -> Session | None:
        wanted = _wanted(request, parameter)
        return self._sessions.get(wanted, now) if wanted else None

    async def _basic(
        self,
        credentials: BasicCredentials,
        existing: Session | None,
        fields: list[Field],
        peer: Peer,
        now: float,
    ) -> Caller:
        """HTTP Basic on anything but a Login (``gateway.http.basic``'s rules)."""
        gate, username, secret = self._gate, credentials.username, credentials.password
        if existing is not None and existing.identity is not None:
            if other_user(existing, username):
                raise CredentialsMismatch
            # A wrong password must not end the client's real session: check
            # it on a throwaway one.
            probe = self._sessions.detached(peer.address, now, 0)
            await gate.check_secret(peer, username, secret=secret, session=probe)
            self._sessions.touch(existing, now)
            return Caller(existing, How.BASIC, fields, now)
        if action_name(fields) == "waitevent":
            raise NeedsSession
        session = self._sessions.detached(peer.address, now, 0)
        identity = await gate.check_secret(peer, username, secret=secret, session=session)
        gate.open(session, identity, peer, now)
        return Caller(session, How.ONE_SHOT, fields, now)


def _wanted(request: web.Request, parameter: str | None) -> str | None:
    """The session id the cookie names, else the ``mansession_id`` parameter."""
    return cookie_session_id(request.headers.get("Cookie")) or parameter


def _session_parameter(request: web.Request, fields: list[Field]) -> str | None:
    """The ``mansession_id`` parameter: the form's, else the query's.  A POST's
    form replaces its query for every AMI field, as in Asterisk, but nginx
    routes on the query alone, so a cookie-less POST names its session there
    (the id is the gateway's own parameter: Asterisk reads only the cookie)."""
    named = header(fields, "mansession_id")
    if named or request.method != "POST":  # a GET's fields are its query
        return named
    return _query_session(request)


def _query_session(request: web.Request) -> str | None:
    return query_parameter(split_target(request.raw_path)[1], "mansession_id")


def _basic_credentials(request: web.Request) -> BasicCredentials | None:
    """The request's HTTP Basic credentials (``BadCredentials`` if they do not decode)."""
    authorization = request.headers.get("Authorization")
    return parse_basic(authorization) if authorization else None
