"""HTTP Basic: its credentials (RFC 7617) parsed without any I/O, and the
rules for a request that carries them.

Only the ``Basic`` scheme is read here; any other ``Authorization`` scheme is
none of this module's business (``None``), so another handler may own it.
The user-pass is decoded as UTF-8, RFC 7617's ``charset`` for every client
that says one and what 1C and browsers send; an invalid byte survives as a
lone surrogate, exactly like a percent-decoded parameter.

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

The credentials are checked like a Login's, by the login gate
(``gateway.core.login``): permit/deny, the failed-login delay and the
security events, with exactly the user's rights.  The caller resolver
(``gateway.http.caller``) applies these rules; the pure ones are here.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Final

from gateway.access.astvalues import action_name as asterisk_action
from gateway.access.astvalues import ascii_lower
from gateway.ami.message import Field, decode, header
from gateway.core.sessions import Session
from gateway.errors import BadCredentials, CredentialsMismatch

SCHEME: Final = "basic"
MAX_TOKEN: Final = 4096
"""A base64 user-pass longer than this is no real account: refused unparsed."""


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never print a password into a log or a traceback
        return f"BasicCredentials(username={self.username!r}, password='***')"


def parse_basic(header: str | None) -> BasicCredentials | None:
    """``Basic dXNlcjpwYXNz`` to credentials; None without a Basic header.

    Raises ``BadCredentials`` for a Basic header that does not decode to
    ``user:pass``: a broken client must hear why, not be taken as anonymous.
    """
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != SCHEME:
        return None
    token = token.strip()
    if not token or len(token) > MAX_TOKEN:
        raise BadCredentials
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadCredentials from exc
    username, colon, password = raw.partition(b":")
    if not colon or not username:
        raise BadCredentials
    return BasicCredentials(decode(username), decode(password))


LOGIN_CREDENTIALS: Final = frozenset({"username", "secret", "authtype", "key"})
"""Replaced by the Basic credentials on a Login: one source of truth."""


def action_name(fields: list[Field]) -> str:
    """The action, lower-cased, as Asterisk and the dispatcher read it."""
    return ascii_lower(asterisk_action(fields))


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
