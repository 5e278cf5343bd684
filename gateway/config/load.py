"""The gateway's configuration: TOML to frozen dataclasses.

Every problem is a ``ConfigError`` whose message names the table and key
(``[users.bob] read: unknown permission class 'cal'``), and unknown keys are
errors.  Secrets may come from environment variables (``secret_env``).  The
only I/O here is reading the file; ``env`` is passed in.  Each table has its
reader: ``[ami]`` in ``ami``, ``[http]`` and ``[limits]`` in ``http``,
``[users.NAME]`` in ``users``, ``[history]`` in ``history``, ``[ami_server]``
in ``amiserver``; the small ``[events]``, ``[log]`` and ``[push]`` tables
are read here.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from gateway.access.accounts import find_user
from gateway.access.classes import ALL, parse_classes
from gateway.access.users import UserConfig
from gateway.ami.settings import AmiConfig
from gateway.amiserver.settings import AmiServerConfig
from gateway.config import fields as cf
from gateway.config.ami import parse_ami
from gateway.config.amiserver import parse_ami_server
from gateway.config.fields import DAY, MIB, Reader, fail
from gateway.config.history import parse_history
from gateway.config.http import HttpConfig, LimitsConfig, parse_http, parse_limits
from gateway.config.users import parse_users
from gateway.core.events import DEFAULT_RING_BYTES, DEFAULT_RING_SIZE
from gateway.core.sendbudget import COPIES, DEFAULT_REPLY_BYTES
from gateway.errors import ConfigError
from gateway.history.settings import HistoryConfig
from gateway.logs import FORMATS as LOG_FORMATS
from gateway.push.settings import PushSettings

WAITEVENT_MARGIN: Final = 10
"""Asterisk caps a poll at the session timeout minus 10 s; so do we."""


@dataclass(frozen=True, slots=True)
class EventsConfig:
    ring_size: int = DEFAULT_RING_SIZE
    ring_bytes: int = DEFAULT_RING_BYTES
    """Bytes the ring may count (events, their objects, their renderings)."""
    reply_bytes: int = DEFAULT_REPLY_BYTES
    """Wire bytes of events in one waitevent answer; the rest comes with the next poll."""


@dataclass(frozen=True, slots=True)
class LogConfig:
    format: str = "text"
    """``text`` lines, or ``json``: one object per line (``gateway/logs.py``)."""
    access: bool = True
    """One access log line per request; off for benchmarks."""


@dataclass(frozen=True, slots=True)
class Config:
    ami: AmiConfig = field(default_factory=AmiConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    events: EventsConfig = field(default_factory=EventsConfig)
    log: LogConfig = field(default_factory=LogConfig)
    users: Mapping[str, UserConfig] = field(default_factory=lambda: MappingProxyType({}))
    """Keyed by lower-cased name: AMI user names are case-insensitive."""
    history: HistoryConfig = field(default_factory=HistoryConfig)
    push: PushSettings = field(default_factory=PushSettings)
    ami_server: AmiServerConfig = field(default_factory=AmiServerConfig)
    demo: bool = False

    def user(self, name: str) -> UserConfig | None:
        return find_user(self.users, name)

    def waitevent_cap(self) -> int:
        """Longest waitevent wait in seconds."""
        if self.limits.waitevent_max is not None:
            return self.limits.waitevent_max
        return max(0, self.http.httptimeout - WAITEVENT_MARGIN)


_EVENTS_READERS: Final[Mapping[str, Reader]] = {
    "ring_size": cf.integer(1, 10_000_000),
    # One event may be 1 MiB (the AMI parser's MAX_MESSAGE); the ring holds at least that.
    "ring_bytes": cf.integer(MIB, 1024 * 1024 * MIB),
    "reply_bytes": cf.integer(4096, 1024 * MIB),
}


def _parse_events(table: Mapping[str, object]) -> EventsConfig:
    return EventsConfig(**cf.read_section("[events]", table, _EVENTS_READERS))


def _check_budgets(limits: LimitsConfig, events: EventsConfig) -> None:
    """A full answer must fit in the send budget, where it counts twice."""
    if limits.queued_bytes < COPIES * events.reply_bytes:
        raise fail(
            "[limits] queued_bytes",
            f"must be at least {COPIES} x [events] reply_bytes ({COPIES * events.reply_bytes}):"
            f" an answer counts {COPIES} times while it is written, not {limits.queued_bytes}",
        )


def _parse_log(table: Mapping[str, object]) -> LogConfig:
    readers: Mapping[str, Reader] = {"format": cf.choice(LOG_FORMATS), "access": cf.boolean}
    return LogConfig(**cf.read_section("[log]", table, readers))


_PUSH_READERS: Final[Mapping[str, Reader]] = {
    "enabled": cf.boolean,
    "heartbeat": cf.number(0, 3600, open_low=True),
    "retry": cf.integer(0, 3_600_000),
    "buffer_bytes": cf.integer(4096, 1024 * MIB),
    "write_timeout": cf.number(0, DAY, open_low=True),
    "max_streams": cf.integer(1, 10_000_000),
    "max_streams_per_session": cf.integer(1, 10_000),
    "max_streams_per_address": cf.integer(1, 10_000_000),
    "max_frame_bytes": cf.integer(1024, 64 * MIB),
    "max_bad_frames": cf.integer(0, 1_000_000),
}


def _parse_push(table: Mapping[str, object]) -> PushSettings:
    return PushSettings(**cf.read_section("[push]", table, _PUSH_READERS))


_TABLES: Final = (
    "ami",
    "http",
    "limits",
    "events",
    "log",
    "history",
    "push",
    "users",
    "ami_server",
)


def parse_config(data: Mapping[str, Any], env: Mapping[str, str]) -> Config:
    """A parsed TOML document to a ``Config``."""
    cf.reject_unknown("top level", data, _TABLES)
    tables = {name: cf.table_of(f"[{name}]", data.get(name, {})) for name in _TABLES}
    if "ami" not in data:
        raise fail("[ami]", "required: the gateway's own AMI account")
    http = parse_http(tables["http"])
    limits = parse_limits(tables["limits"], http)
    events = _parse_events(tables["events"])
    _check_budgets(limits, events)
    return Config(
        ami=parse_ami(tables["ami"], env),
        http=http,
        limits=limits,
        events=events,
        log=_parse_log(tables["log"]),
        users=parse_users(tables["users"], env),
        history=parse_history(tables["history"], env),
        push=_parse_push(tables["push"]),
        ami_server=parse_ami_server(tables["ami_server"]),
    )


def load_config(path: str | Path, env: Mapping[str, str] = os.environ) -> Config:
    """Read and check a TOML configuration file."""
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(data, env)


def demo_config() -> Config:
    """``--demo``: the simulator's account, users admin/admin and reader/reader.

    The caller fills in the simulator's port with ``dataclasses.replace``.
    """
    users = (
        UserConfig(name="admin", secret="admin", read=ALL, write=ALL),
        UserConfig(name="reader", secret="reader", read=parse_classes("call,system")),
    )
    return Config(
        ami=AmiConfig(host="127.0.0.1", username="admin", secret="admin-secret"),
        users=MappingProxyType({user.name.lower(): user for user in users}),
        history=HistoryConfig(enabled=True, path=":memory:"),  # the simulator's calls
        demo=True,
    )
