"""Requests that carry HTTP Basic credentials (design.md, principle 7).

For clients that keep no cookies (1C's HTTPСоединение, click-to-call): a
request with Basic credentials and no session runs its one action as that
user, through a session that is never stored, so no session and no cookie
outlive the answer.  The rules:

* no session (or one that never logged in): a one-shot request; waitevent
  is refused with ``waitevent needs a session``, there being nothing to wait on;
* a logged-in session of the same user: that session, as without Basic;
* a logged-in session of another user: refused, never silently mixed;
* ``Action: Login``: the Basic credentials are the login's, so a client can
  open a session without a secret in its URL.

The credentials are checked like a Login's: permit/deny, the failed-login
delay and the security events, with exactly the user's rights.  No aiohttp
here: the HTTP layer passes in what it parsed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

from gateway.ami.message import Field, header
from gateway.core.dispatch import Dispatcher
from gateway.core.replies import Peer
from gateway.core.sessions import Session
from gateway.errors import CredentialsMismatch, NeedsSession
from gateway.http.basic import BasicCredentials

LOGIN_CREDENTIALS: Final = frozenset({"username", "secret", "authtype", "key"})
"""Replaced by the Basic credentials on a Login: one source of truth."""


@dataclass(frozen=True, slots=True)
class BasicSession:
    """The session a Basic request runs in; ``stored`` ones answer with a cookie."""

    session: Session
    stored: bool


def action_name(fields: list[Field]) -> str:
    return (header(fields, "Action") or "").strip().lower()


def other_user(session: Session, username: str) -> bool:
    """Logged in as someone else (AMI user names ignore case, as ``Config.user``)."""
    identity = session.identity
    return identity is not None and identity.username.lower() != username.lower()


def login_fields(
    fields: list[Field], credentials: BasicCredentials, existing: Session | None
) -> list[Field]:
    """A Login's fields with the Basic credentials as its Username and Secret;
    another user's name, or another user's session, is refused."""
    named = header(fields, "Username")
    if named is not None and named.lower() != credentials.username.lower():
        raise CredentialsMismatch
    if existing is not None and other_user(existing, credentials.username):
        raise CredentialsMismatch
    kept = [(k, v) for k, v in fields if k.lower() not in LOGIN_CREDENTIALS]
    return [*kept, ("Username", credentials.username), ("Secret", credentials.password)]


async def basic_session(
    dispatcher: Dispatcher,
    credentials: BasicCredentials,
    existing: Session | None,
    fields: list[Field],
    peer: Peer,
) -> BasicSession:
    """The session a non-Login Basic request runs in, its credentials checked."""
    sessions = dispatcher.sessions
    now = time.monotonic()
    if existing is not None and existing.identity is not None:
        if other_user(existing, credentials.username):
            raise CredentialsMismatch
        # A wrong password must not end the client's real session: check it on
        # a throwaway one.
        probe = sessions.detached(peer.address, now, dispatcher.log.last_seq)
        await dispatcher.authenticate(
            probe, peer, credentials.username, secret=credentials.password
        )
        return BasicSession(existing, stored=True)
    if action_name(fields) == "waitevent":
        raise NeedsSession
    session = sessions.detached(peer.address, now, dispatcher.log.last_seq)
    identity = await dispatcher.authenticate(
        session, peer, credentials.username, secret=credentials.password
    )
    session.log_in(identity)
    dispatcher.security("SuccessfulAuth", session, peer, identity.username)
    return BasicSession(session, stored=False)
