"""Readers for single TOML values, each raising ``ConfigError`` naming the key.

A reader takes ``where`` (``"[http] port"``) and the raw TOML value and
returns the checked value.  TOML has no null: an optional key is simply
absent, so readers never see None.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from gateway.access.users import Network
from gateway.errors import ConfigError

Reader = Callable[[str, object], Any]

MIB: Final = 1024 * 1024
"""The unit of the readers' bounds in bytes."""
DAY: Final = 86_400
"""The unit of the readers' longest bounds in seconds."""

_NAME_RE: Final = re.compile(r"^[A-Za-z0-9_]+$")


def fail(where: str, problem: str) -> ConfigError:
    return ConfigError(f"{where}: {problem}")


def reject_unknown(where: str, table: Mapping[str, object], known: Iterable[str]) -> None:
    """Unknown keys are errors: a typo must never pass silently."""
    names = list(known)
    for key in table:
        if key not in names:
            hint = difflib.get_close_matches(key, names, n=1)
            suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(f"{where}: unknown key {key!r}{suffix}")


def table_of(where: str, value: object) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise fail(where, "must be a table")
    return value


def integer(low: int, high: int) -> Reader:
    def read(where: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(where, f"must be an integer, not {value!r}")
        if not low <= value <= high:
            raise fail(where, f"must be between {low} and {high}, not {value}")
        return value

    return read


def number(low: float, high: float, *, open_low: bool = False) -> Reader:
    """A float; ``open_low`` excludes ``low`` itself (timeouts must be > 0)."""

    def read(where: str, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(where, f"must be a number, not {value!r}")
        result = float(value)
        too_low = result <= low if open_low else result < low
        if math.isnan(result) or too_low or result > high:
            bound = "above" if open_low else "at least"
            raise fail(where, f"must be {bound} {low} and at most {high}, not {value}")
        return result

    return read


def boolean(where: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise fail(where, f"must be true or false, not {value!r}")
    return value


def string(where: str, value: object) -> str:
    if not isinstance(value, str):
        raise fail(where, f"must be a string, not {value!r}")
    return value


def nonempty(where: str, value: object) -> str:
    text = string(where, value)
    if not text:
        raise fail(where, "must not be empty")
    return text


def choice(options: tuple[str, ...]) -> Reader:
    """A string that must be one of ``options``, exactly."""

    def read(where: str, value: object) -> str:
        text = string(where, value)
        if text not in options:
            raise fail(where, f"{text!r} must be one of {', '.join(options)}")
        return text

    return read


def strings(where: str, value: object) -> tuple[str, ...]:
    """A string or a list of strings."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        raise fail(where, f"must be a string or a list of strings, not {value!r}")
    return tuple(string(f"{where}[{i}]", item) for i, item in enumerate(value))


def action_names(where: str, value: object) -> tuple[str, ...]:
    names = strings(where, value)
    for name in names:
        if not _NAME_RE.match(name):
            raise fail(where, f"{name!r} is not an action name")
    return names


def networks(where: str, value: object) -> tuple[Network, ...]:
    """``"10.0.0.0/8"``, ``"192.0.2.1"``, ``"209.16.236.0/255.255.255.0"``, or a list.

    Host bits are masked off, as Asterisk's ACLs do.
    """
    result = []
    for text in strings(where, value):
        try:
            result.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError as exc:
            raise fail(where, f"{text!r} is not a network: {exc}") from exc
    return tuple(result)


def env_secret(where: str, value: object, env: Mapping[str, str]) -> str:
    """The secret named by ``secret_env``: the variable must exist and be non-empty."""
    name = nonempty(where, value)
    secret = env.get(name)
    if not secret:
        raise fail(where, f"environment variable {name!r} is not set or empty")
    return secret


def read_section(
    where: str, table: Mapping[str, object], readers: Mapping[str, Reader]
) -> dict[str, Any]:
    reject_unknown(where, table, readers)
    return {key: readers[key](f"{where} {key}", value) for key, value in table.items()}
