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

The credentials are checked like a Login's, by the login gate
(``gateway.core.login``): permit/deny, the failed-login delay and the
security events, with exactly the user's rights.  The caller resolver
(``gateway.http.caller``) applies these rules; the pure ones are here.
"""

from __future__ import annotations

from typing import Final

from gateway.access.astvalues import action_name as asterisk_action
from gateway.access.astvalues import ascii_lower
from gateway.ami.message import Field, header
from gateway.core.sessions import Session
from gateway.errors import CredentialsMismatch
from gateway.http.basic import BasicCredentials

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
