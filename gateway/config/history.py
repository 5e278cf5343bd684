"""``[history]``, ``[history.mysql]`` and ``[history.postgresql]`` to frozen dataclasses.

Every problem is a ``ConfigError`` naming the key, as in ``gateway.config``.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from gateway.config import fields as cf
from gateway.config.fields import Reader, fail

DAY: Final = 86_400
BACKENDS: Final = ("sqlite", "mysql", "postgresql")
LAYOUTS: Final = ("auto", "cdr_mysql", "adaptive")
"""cdr_mysql/cdr_pgsql have ``calldate``; the alembic (cdr_adaptive_odbc) table ``start``."""
_IDENT_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_PREFIX_RE: Final = re.compile(r"^\+?[0-9]{1,6}$")


@dataclass(frozen=True, slots=True)
class NumberRules:
    """How a phone number becomes its search key: digits only, then the last N."""

    keep_last: int = 10
    """Russian national numbers are 10 digits: +7 912…, 8 912… and 912… meet."""
    prefixes: tuple[str, ...] = ("8", "7", "+7")
    """What may stand before a national number in a table the gateway cannot
    normalise (the MySQL backend matches these spellings exactly)."""
    max_length: int = 32
    """A longer ``number`` is refused: no dial string is that long."""


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """``[history.mysql]`` or ``[history.postgresql]``: the PBX's CDR database."""

    host: str = "127.0.0.1"
    port: int = 0
    """0: the server's usual port, 3306 or 5432."""
    unix_socket: str = ""
    """MySQL: the socket file; PostgreSQL: the directory that holds it."""
    user: str = "asterisk"
    password: str = ""
    database: str = "asterisk"
    table: str = "cdr"
    layout: str = "auto"
    pool_size: int = 4
    connect_timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class HistoryConfig:
    enabled: bool = False
    backend: str = "sqlite"
    path: str = "ajam-history.sqlite3"
    retention_days: int = 0
    """0 keeps calls forever."""
    max_rows: int = 0
    """0 sets no cap; else the oldest rows above it are deleted."""
    pbx_timezone: zoneinfo.ZoneInfo = field(default_factory=lambda: zoneinfo.ZoneInfo("UTC"))
    """Cdr times carry no zone: Asterisk writes the PBX's local time."""
    limit_default: int = 20
    limit_max: int = 500
    """A client cannot ask for more calls than this in one answer."""
    queue_size: int = 10_000
    """Cdrs waiting for the writer; more are dropped and counted, never block AMI."""
    batch_size: int = 500
    """Rows per transaction: one fsync per batch, not per call."""
    flush_interval: float = 0.5
    prune_interval: float = 300.0
    query_timeout: float = 5.0
    numbers: NumberRules = field(default_factory=NumberRules)
    mysql: DatabaseConfig = field(default_factory=DatabaseConfig)
    postgresql: DatabaseConfig = field(default_factory=DatabaseConfig)


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


def _prefixes(where: str, value: object) -> tuple[str, ...]:
    items = cf.strings(where, value)
    for item in items:
        if not _PREFIX_RE.match(item):
            raise fail(where, f"{item!r} must be up to 6 digits, optionally after '+'")
    return items


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
    "path": cf.nonempty,
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
    return config
