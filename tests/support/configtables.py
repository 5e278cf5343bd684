"""Configuration documents for the tests of ``gateway.config``: the least
valid one, one with more tables, and the message a bad one is refused with."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.config import parse_config
from gateway.errors import ConfigError

MINIMAL: dict[str, Any] = {"ami": {"username": "gw", "secret": "pw"}}
"""The least a configuration holds: the gateway's own AMI account."""


def with_(**tables: object) -> dict[str, Any]:
    """``MINIMAL`` and these tables."""
    return {**MINIMAL, **tables}


def error_of(data: dict[str, Any], env: dict[str, str] | None = None) -> str:
    """The message ``parse_config`` refuses ``data`` with."""
    with pytest.raises(ConfigError) as info:
        parse_config(data, env or {})
    return info.value.message
