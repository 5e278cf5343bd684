"""What a user may do: run an action, read an event, connect from an address.

The gateway logs in to Asterisk once, with ``write=all``, so it enforces its
own users' rights before anything reaches AMI, in this order:

1. the session's own actions (Login, Logoff, Challenge, Ping, WaitEvent,
   Events, ListCommands) are always allowed: ``actions_allow`` must not lock
   a user out of its session;
2. ``actions_deny``, then ``actions_allow`` (when set, only those actions);
3. manager.conf's class rule: the action's classes share one with the
   user's ``write`` classes, or the action has none; an action the gateway
   does not know needs ``write=all``;
4. Asterisk's own field checks, which its ``write=all`` session would skip
   (``gateway.access.actionchecks.escalation_reason``);
5. the gateway's deny-list of dangerous uses and, for Command, the user's
   ``commands_allow`` (``gateway.access.actionchecks.dangerous_reason``), unless
   the user's ``actions_allow`` names the action: that is the operator's escape
   hatch (``actions_allow = ["Command", ...]`` lets any CLI command through).

Secrets are checked by ``gateway.access.credentials``; re-exported here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from gateway.access.actionchecks import Fields, dangerous_reason, escalation_reason
from gateway.access.actionclasses import ActionPermissions
from gateway.access.astvalues import ascii_lower
from gateway.access.classes import ALL, format_classes
from gateway.access.credentials import (
    digest_ha1_for,
    hash_secret,
    verify_md5_key,
    verify_secret,
)
from gateway.access.users import UserConfig
from gateway.errors import PermissionDenied

__all__ = [
    "ALWAYS_ALLOWED",
    "Denial",
    "address_allowed",
    "authorize_action",
    "check_action",
    "digest_ha1_for",
    "hash_secret",
    "may_read",
    "may_run",
    "verify_md5_key",
    "verify_secret",
]

ALWAYS_ALLOWED: Final = frozenset(
    {"login", "logoff", "challenge", "ping", "waitevent", "events", "listcommands"}
)
"""Actions on the session itself; no class is needed and no list can deny them."""

DENIED: Final = "Permission denied"


@dataclass(frozen=True, slots=True)
class Denial:
    """Why an action is refused: ``message`` for the client, ``reason`` for logs."""

    message: str
    reason: str


def may_run(write: int, action_classes: int | None) -> bool:
    """manager.conf's rule; an unknown action (None) needs ``write=all``."""
    if action_classes is None:
        return write == ALL
    return action_classes == 0 or bool(write & action_classes)


def may_read(read: int, event_mask: int, event_classes: int) -> bool:
    """An event reaches a session when all its classes are readable and in its mask."""
    return read & event_classes == event_classes and event_mask & event_classes == event_classes


def _named(names: Iterable[str] | None, action: str) -> bool:
    return names is not None and any(ascii_lower(name) == action for name in names)


def check_action(
    user: UserConfig, perms: ActionPermissions, action: str, fields: Fields
) -> Denial | None:
    """None when ``user`` may send this action with these fields, else a Denial."""
    name = ascii_lower(action)  # whole, as Asterisk compares it
    if name in ALWAYS_ALLOWED:
        return None
    if _named(user.actions_deny, name):
        return Denial(DENIED, f"{action} is in actions_deny of {user.name}")
    allow_listed = _named(user.actions_allow, name)
    if user.actions_allow is not None and not allow_listed:
        return Denial(DENIED, f"{action} is not in actions_allow of {user.name}")
    classes = perms.classes(name)
    if not may_run(user.write, classes):
        needed = "all (unknown action)" if classes is None else format_classes(classes)
        return Denial(DENIED, f"{user.name} write={format_classes(user.write)}, needs {needed}")
    escalation = escalation_reason(name, fields, user.write)
    if escalation is not None:
        return Denial(escalation, f"{action} by {user.name}: {escalation}")
    danger = None if allow_listed else dangerous_reason(name, fields, user.commands_allow)
    if danger is not None:
        return Denial(DENIED, f"{action} by {user.name}: {danger} (name it in actions_allow)")
    return None


def authorize_action(
    user: UserConfig, perms: ActionPermissions, action: str, fields: Fields
) -> None:
    """``check_action`` that raises ``PermissionDenied`` with the client's message."""
    denial = check_action(user, perms, action, fields)
    if denial is not None:
        raise PermissionDenied(denial.message)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_allowed(user: UserConfig, ip: str) -> bool:
    """manager.conf's permit/deny: allowed unless denied, a permit overrides a deny.

    One deliberate difference: ``permit`` without any ``deny`` means "only
    these" (an implied ``deny = 0.0.0.0/0, ::/0``).  In Asterisk such a permit
    allows nothing extra and denies nothing, which surprises everyone.  An
    address that does not parse is refused.
    """
    if not user.permit and not user.deny:
        return True
    address = _address(ip)
    if address is None:
        return False
    if any(address in network for network in user.permit):
        return True
    if not user.deny:
        return False
    return not any(address in network for network in user.deny)
