"""``[users.NAME]`` tables: the gateway's own HTTP users."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from gateway import configfields as cf
from gateway.classes import parse_classes
from gateway.clitokens import DEFAULT_PREFIXES, Prefix, parse_prefix
from gateway.configfields import Network, Reader, fail
from gateway.credentials import check_ha1, parse_hash
from gateway.errors import ConfigError
from gateway.eventfilter import EventFilter
from gateway.posixre import PatternError

MAX_FILTERS: Final = 64
"""eventfilter entries per user: each one runs on every event."""
MAX_NAME: Final = 79
"""Asterisk keeps user names in 80-byte buffers."""

_USER_NAME_RE: Final = re.compile(r"^[^\s:\x00-\x1f\x7f]+$")


@dataclass(frozen=True, slots=True)
class UserConfig:
    name: str
    secret: str | None = None
    secret_hash: str | None = None
    digest_ha1: str | None = None
    read: int = 0
    """Event classes the user receives (bitmask, ``gateway.classes``)."""
    write: int = 0
    """Action classes the user may run."""
    permit: tuple[Network, ...] = ()
    deny: tuple[Network, ...] = ()
    eventfilter: tuple[str, ...] = ()
    actions_allow: tuple[str, ...] | None = None
    """When set, only these actions (plus the session's own, like Ping)."""
    actions_deny: tuple[str, ...] = ()
    commands_allow: tuple[Prefix, ...] = DEFAULT_PREFIXES
    """CLI command prefixes (lower-case words) ``Action: Command`` may run."""
    max_sessions: int | None = None
    event_filter: EventFilter = field(init=False, compare=False, repr=False)
    """``eventfilter`` compiled once; building a UserConfig raises if it is bad."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "event_filter", EventFilter.from_specs(self.eventfilter))


def _classes(where: str, value: object) -> int:
    try:
        return parse_classes(value if isinstance(value, str) else cf.strings(where, value))
    except ValueError as exc:
        raise fail(where, str(exc)) from exc


def _secret_hash(where: str, value: object) -> str:
    text = cf.nonempty(where, value).strip()
    try:
        parse_hash(text)
    except ValueError as exc:
        raise fail(where, f"{exc} (make one with 'ajam-gateway hash-secret')") from exc
    return text


def _digest_ha1(where: str, value: object) -> str:
    try:
        return check_ha1(cf.string(where, value))
    except ValueError as exc:
        raise fail(where, str(exc)) from exc


def _eventfilter(where: str, value: object) -> tuple[str, ...]:
    specs = cf.strings(where, value)
    if len(specs) > MAX_FILTERS:
        raise fail(where, f"at most {MAX_FILTERS} filters")
    for spec in specs:
        try:
            EventFilter.from_specs((spec,))
        except PatternError as exc:
            raise fail(where, f"{spec!r} does not compile: {exc}") from exc
        except ValueError as exc:
            raise fail(where, str(exc)) from exc
    return specs


def _commands_allow(where: str, value: object) -> tuple[Prefix, ...]:
    prefixes = []
    for entry in cf.strings(where, value):
        prefix = parse_prefix(entry)
        if not prefix:
            raise fail(
                where,
                f"{entry!r} has no words (to allow every command, name Command in actions_allow)",
            )
        prefixes.append(prefix)
    return tuple(prefixes)


_USER_READERS: Final[Mapping[str, Reader]] = {
    "secret": cf.nonempty,
    "secret_hash": _secret_hash,
    "secret_env": cf.nonempty,
    "digest_ha1": _digest_ha1,
    "read": _classes,
    "write": _classes,
    "permit": cf.networks,
    "deny": cf.networks,
    "eventfilter": _eventfilter,
    "actions_allow": cf.action_names,
    "actions_deny": cf.action_names,
    "commands_allow": _commands_allow,
    "max_sessions": cf.integer(1, 10_000_000),
}


def parse_user(name: str, table: Mapping[str, object], env: Mapping[str, str]) -> UserConfig:
    where = f"[users.{name}]"
    if len(name) > MAX_NAME or not _USER_NAME_RE.match(name):
        raise ConfigError(f"{where}: a user name is 1-{MAX_NAME} characters, no space or ':'")
    values: dict[str, Any] = cf.read_section(where, table, _USER_READERS)
    given = [key for key in ("secret", "secret_hash", "secret_env") if key in values]
    if len(given) != 1:
        raise fail(where, "give exactly one of 'secret', 'secret_hash' and 'secret_env'")
    if "secret_env" in values:
        values["secret"] = cf.env_secret(f"{where} secret_env", values.pop("secret_env"), env)
    return UserConfig(name=name, **values)


def parse_users(table: Mapping[str, object], env: Mapping[str, str]) -> Mapping[str, UserConfig]:
    users: dict[str, UserConfig] = {}
    for name, value in table.items():
        user = parse_user(name, cf.table_of(f"[users.{name}]", value), env)
        key = name.lower()
        if key in users:
            raise ConfigError(
                f"[users.{name}]: same name as [users.{users[key].name}]; names ignore case"
            )
        users[key] = user
    return MappingProxyType(users)
