"""The gateway's users as the dispatcher sees them: logins and rights.

Joins the users' settings, the secret checks (``gateway.access.credentials``), the
action rights (``gateway.access.rights``) and the event filters into the one
``Accounts`` object the dispatcher talks to.  The action class map starts
from the built-in table and is replaced by what ``ListCommands`` reports at
every AMI login.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Final

from gateway.access.actionclasses import ActionPermissions
from gateway.access.eventfilter import EventFilter, parse_filter_action
from gateway.access.identity import EventPredicate, Identity
from gateway.access.rights import address_allowed, authorize_action, verify_md5_key, verify_secret
from gateway.access.users import MAX_FILTERS, UserConfig
from gateway.ami.message import Field, Message
from gateway.errors import AmiLevelError, PermissionDenied

log = logging.getLogger("gateway.auth")

MAX_SESSION_FILTERS: Final = MAX_FILTERS
"""Every rule is tried on every event: the same bound as a user's config."""


def find_user(users: Mapping[str, UserConfig], name: str) -> UserConfig | None:
    """The user called ``name``, in any case (``users`` is keyed by lower-cased name)."""
    return users.get(name.lower())


class Accounts:
    def __init__(self, users: Mapping[str, UserConfig]) -> None:
        self._users = users
        self.permissions = ActionPermissions.builtin()

    def replace_users(self, users: Mapping[str, UserConfig]) -> None:
        """A SIGHUP reload: new users, secrets and rights from now on."""
        self._users = users

    def learn_actions(self, listcommands: Message) -> None:
        """Take each action's classes from Asterisk's own ListCommands answer."""
        if listcommands.name != "Success":
            log.warning("ListCommands failed; keeping the built-in action table")
            return
        learnt = ActionPermissions.from_listcommands(listcommands)
        if len(learnt):
            self.permissions = learnt
            log.info("learnt the classes of %d actions from ListCommands", len(learnt))

    def canonical_action(self, action: str) -> str | None:
        """The action's name as Asterisk spells it; None when unknown."""
        return self.permissions.canonical(action)

    def exists(self, action: str) -> bool:
        perms = self.permissions
        return not perms.authoritative or action in perms

    def user(self, username: str) -> UserConfig | None:
        return find_user(self._users, username)

    def check_login(
        self, username: str, peer_address: str, *, secret: str | None, md5: tuple[str, str] | None
    ) -> tuple[Identity | None, str]:
        user = self.user(username)
        if user is None:
            return None, "InvalidAccountID"
        if not address_allowed(user, peer_address):
            return None, "FailedACL"
        if md5 is not None:
            if not verify_md5_key(user, md5[0], md5[1]):
                return None, "ChallengeResponseFailed"
        elif secret is None or not verify_secret(user, secret):
            return None, "InvalidPassword"
        return self.identity(user), ""

    def identity(self, user: UserConfig) -> Identity:
        return Identity(
            user.name,
            user.read,
            user.write,
            user.event_filter or None,
            user.originate_response,
        )

    def check_action(self, identity: Identity, action: str, fields: Sequence[Field]) -> None:
        user = self.user(identity.username)
        if user is None:  # removed by a reload: its sessions lose their rights
            raise PermissionDenied
        authorize_action(user, self.permissions, action, fields)

    def add_filter(
        self, current: EventPredicate | None, criteria: str | None, expression: str
    ) -> EventPredicate:
        """``Action: Filter``: one more rule in the session's set (as Asterisk's
        session include/exclude lists, which start as the user's)."""
        rule = parse_filter_action(criteria, expression)
        if isinstance(current, EventFilter):
            if len(current.rules) >= MAX_SESSION_FILTERS:
                raise AmiLevelError("Too many filters")
            return current.with_rule(rule)
        return EventFilter.of([rule])

    def max_sessions(self, username: str) -> int | None:
        user = self.user(username)
        return None if user is None else user.max_sessions
