"""``[history]``, ``[history.mysql]`` and ``[history.postgresql]`` to the history's
settings (``gateway.history.settings``).

Every problem is a ``ConfigError`` naming the key, as in ``gateway.config``.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from typing import Final

from gateway.config import fields as cf
from gateway.config.fields import Reader, fail
from gateway.history.location import template_problem
from gateway.history.record import COLUMNS
from gateway.history.settings import (
    BACKENDS,
    DAY,
    LAYOUTS,
    DatabaseConfig,
    HistoryConfig,
    NumberRules,
)

_IDENT_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_PREFIX_RE: Final = re.compile(r"^\+?[0-9]{1,6}$")


def _zone(where: str, value: object) -> zoneinfo.ZoneInfo:
    name = cf.nonempty(where, value)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise fail(where, f"{name!r} is not a known time zone") from exc


def _identifier(where: str, value: object) -> str:
    text = cf.string(where, value)
    if not _IDENT_RE.match(text):
        raise fail(where, f"{text!r} must be a plain SQL name (letters, digits, _)")
    return text


_TIME_COLUMNS: Final = frozenset({"calldate", "start", "answer", "end"})
"""What the table's own time columns are called (the answer names them start, answer, end)."""


def _extra_columns(where: str, value: object) -> tuple[str, ...]:
    """Column names, each once and none that the answer already has."""
    names = tuple(_identifier(where, item) for item in cf.strings(where, value))
    seen: set[str] = set()
    for name in names:
        lower = name.lower()
        if lower in seen:
            raise fail(where, f"{name!r} is named twice")
        if lower in COLUMNS or lower in _TIME_COLUMNS:
            raise fail(where, f"{name!r} is already in every call")
        seen.add(lower)
    return names


def _optional_identifier(where: str, value: object) -> str:
    """A plain SQL name, or "" for none."""
    return _identifier(where, value) if cf.string(where, value) else ""


def _recordings_dir(where: str, value: object) -> str:
    path = cf.string(where, value)
    if path and not path.startswith("/"):
        raise fail(where, f"{path!r} must be an absolute path")
    return path


def _prefixes(where: str, value: object) -> tuple[str, ...]:
    items = cf.strings(where, value)
    for item in items:
        if not _PREFIX_RE.match(item):
            raise fail(where, f"{item!r} must be up to 6 digits, optionally after '+'")
    return items


def _path(where: str, value: object) -> str:
    text = cf.nonempty(where, value)
    problem = template_problem(text)
    if problem:
        raise fail(where, problem)
    return text


_DATABASE_READERS: Final[Mapping[str, Reader]] = {
    "host": cf.nonempty,
    "port": cf.integer(0, 65535),
    "unix_socket": cf.string,
    "user": cf.nonempty,
    "password": cf.string,
    "password_env": cf.nonempty,
    "database": _identifier,
    "table": _identifier,
    "layout": cf.choice(LAYOUTS),
    "pool_size": cf.integer(1, 100),
    "connect_timeout": cf.number(0, 600, open_low=True),
}

_NUMBER_READERS: Final[Mapping[str, Reader]] = {
    "number_keep_last": cf.integer(0, 32),
    "number_prefixes": _prefixes,
    "number_max_length": cf.integer(1, 256),
}
_NUMBER_KEYS: Final = {key: key.removeprefix("number_") for key in _NUMBER_READERS}
"""``[history] number_X`` is ``NumberRules.X``."""

_READERS: Final[Mapping[str, Reader]] = {
    "enabled": cf.boolean,
    "backend": cf.choice(BACKENDS),
    "path": _path,
    "retention_days": cf.integer(0, 100 * 366),
    "max_rows": cf.integer(0, 10**12),
    "pbx_timezone": _zone,
    "limit_default": cf.integer(1, 100_000),
    "limit_max": cf.integer(1, 100_000),
    "queue_size": cf.integer(1, 10_000_000),
    "batch_size": cf.integer(1, 100_000),
    "flush_interval": cf.number(0, 60, open_low=True),
    "prune_interval": cf.number(0, DAY, open_low=True),
    "query_timeout": cf.number(0, 600, open_low=True),
    "extra_columns": _extra_columns,
    "recordings_dir": _recordings_dir,
    "recording_column": _optional_identifier,
    "recordings_scan_limit": cf.integer(1, 10_000_000),
    **_NUMBER_READERS,
}


_DATABASES: Final = ("mysql", "postgresql")


def _parse_database(name: str, table: object, env: Mapping[str, str]) -> DatabaseConfig:
    where = f"[history.{name}]"
    values = cf.read_section(where, cf.table_of(where, table), _DATABASE_READERS)
    if "password" in values and "password_env" in values:
        raise fail(where, "give at most one of 'password' and 'password_env'")
    if "password_env" in values:
        secret = cf.env_secret(f"{where} password_env", values.pop("password_env"), env)
        values["password"] = secret
    return DatabaseConfig(**values)


def parse_history(table: Mapping[str, object], env: Mapping[str, str]) -> HistoryConfig:
    """``[history]`` (with its ``mysql`` and ``postgresql`` sub-tables) to a ``HistoryConfig``."""
    plain = {key: value for key, value in table.items() if key not in _DATABASES}
    values = cf.read_section("[history]", plain, _READERS)
    numbers = {_NUMBER_KEYS[k]: values.pop(k) for k in list(values) if k in _NUMBER_KEYS}
    config = HistoryConfig(
        **values,
        numbers=NumberRules(**numbers),
        mysql=_parse_database("mysql", table.get("mysql", {}), env),
        postgresql=_parse_database("postgresql", table.get("postgresql", {}), env),
    )
    if config.limit_default > config.limit_max:
        raise fail("[history] limit_default", "must not exceed limit_max")
    for key in ("extra_columns", "recording_column"):
        if getattr(config, key) and config.backend not in _DATABASES:
            raise fail(f"[history] {key}", "needs backend 'mysql' or 'postgresql'")
    if config.recordings_dir and not config.enabled:
        raise fail("[history] recordings_dir", "needs enabled = true")
    return config
