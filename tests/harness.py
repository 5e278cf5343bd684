"""The gateway under test: a real app on loopback, against the simulator."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from gateway.app import GATEWAY, create_app
from gateway.config import Config, parse_config

TEST_USERS: Mapping[str, Mapping[str, str]] = {
    "admin": {"secret": "admin-secret", "read": "all", "write": "all"},
    "reader": {"secret": "reader-secret", "read": "call,system", "write": "none"},
    "caller": {"secret": "caller-secret", "read": "call", "write": "originate,call"},
}
"""The users of the captures (fixtures README), so that replays log in as recorded."""


def gateway_config(ami_port: int, **sections: Mapping[str, Any]) -> Config:
    data: dict[str, Any] = {
        "ami": {
            "host": "127.0.0.1",
            "port": ami_port,
            "username": "admin",
            "secret": "admin-secret",
            "ping_interval": 5,
            "reconnect_min": 0.05,
            "reconnect_max": 0.2,
            "action_timeout": 5,
        },
        "limits": {"login_fail_delay": 0.05},
        "users": {name: dict(user) for name, user in TEST_USERS.items()},
    }
    for name, table in sections.items():
        data[name] = {**data.get(name, {}), **table}
    return parse_config(data, {})


async def wait_ready(app: web.Application, timeout: float = 5.0) -> None:
    """Until the gateway has logged in to AMI (and learnt ListCommands)."""
    gateway = app[GATEWAY]
    async with asyncio.timeout(timeout):
        while not gateway.ami.ready:  # noqa: ASYNC110 - the client exposes no event for this
            await asyncio.sleep(0.01)


def new_app(ami_port: int, **sections: Mapping[str, Any]) -> web.Application:
    return create_app(gateway_config(ami_port, **sections))


COOKIE = re.compile(r'^mansession_id="([a-z0-9]*[0-9a-f]{32})"; Version=1; Max-Age=(\d+)')
