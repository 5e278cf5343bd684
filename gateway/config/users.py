"""``[users.NAME]`` tables to the users' settings (``gateway.access.users``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from gateway.access.classes import parse_classes
from gateway.access.clitokens import Prefix, parse_prefix
from gateway.access.credentials import check_ha1, parse_hash
from gateway.access.eventfilter import EventFilter
from gateway.access.identity import OriginateResponses
from gateway.access.posixre import PatternError
from gateway.access.users import MAX_FILTERS, UserConfig
from gateway.config import fields as cf
from gateway.config.fields import Reader, fail
from gateway.errors import ConfigError

MAX_NAME: Final = 79
"""Asterisk keeps user names in 80-byte buffers."""

_USER_NAME_RE: Final = re.compile(r"^[^\s:\x00-\x1f\x7f]+$")


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


def _originate_response(where: str, value: object) -> OriginateResponses:
    text = cf.string(where, value)
    try:
        return OriginateResponses(text)
    except ValueError:
        raise fail(where, f"{text!r} must be 'all' or 'owner'") from None


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
    "originate_response": _originate_response,
}


def check_user_name(name: str, where: str) -> str:
    if len(name) > MAX_NAME or not _USER_NAME_RE.match(name):
        raise ConfigError(f"{where}: a user name is 1-{MAX_NAME} characters, no space or ':'")
    return name


def parse_user(name: str, table: Mapping[str, object], env: Mapping[str, str]) -> UserConfig:
    where = f"[users.{name}]"
    check_user_name(name, where)
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
