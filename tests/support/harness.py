"""The gateway under test: a real app on loopback, against the simulator."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import GATEWAY, create_app
from gateway.config import Config, parse_config
from gateway.http.accesslog import AccessLogger
from gateway.simulator import Simulator

TEST_USERS: Mapping[str, Mapping[str, str]] = {
    "admin": {"secret": "admin-secret", "read": "all", "write": "all"},
    "reader": {"secret": "reader-secret", "read": "call,system", "write": "none"},
    "caller": {"secret": "caller-secret", "read": "call", "write": "originate,call"},
}
"""The users of the captures (fixtures README), so that replays log in as recorded."""


def narrow_users(eventfilter: list[str]) -> dict[str, Any]:
    """TEST_USERS and ``narrow`` (read=all, write=system,user) whose config
    ``eventfilter`` is the operator's ceiling (issue 11, item 11)."""
    table: dict[str, Any] = {name: dict(user) for name, user in TEST_USERS.items()}
    table["narrow"] = {
        "secret": "narrow-secret",
        "read": "all",
        "write": "system,user",
        "eventfilter": eventfilter,
    }
    return table


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
        # Tests fire hundreds of requests a second from 127.0.0.1: the rate
        # limits get their own tests (tests/e2e/test_limits.py).
        "limits": {"login_fail_delay": 0.05, "rate_per_address": 1e6, "rate_per_session": 1e6},
        "users": {name: dict(user) for name, user in TEST_USERS.items()},
    }
    for name, table in sections.items():
        data[name] = {**data.get(name, {}), **table}
    return parse_config(data, {})


def user_event(name: str, privilege: str = "user,all", **extra: str) -> list[tuple[str, str]]:
    """A UserEvent for ``Simulator.emit``; ``extra`` headers follow in order."""
    return [("Event", "UserEvent"), ("Privilege", privilege), ("UserEvent", name), *extra.items()]


async def until(check: Callable[[], object], timeout: float = 5.0, interval: float = 0.005) -> None:
    """Until ``check()`` is true (TimeoutError after a generous ``timeout``):
    for state that exposes no event to wait on."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(interval)


async def wait_ready(app: web.Application, timeout: float = 5.0) -> None:
    """Until the gateway has logged in to AMI (and learnt ListCommands)."""
    gateway = app[GATEWAY]
    # ready comes first; ListCommands is learnt by a task started after it.
    await until(lambda: gateway.ami.ready and gateway.accounts.permissions.authoritative, timeout)


@contextlib.asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """The app on loopback as ``ajam-gateway`` runs it (a plain ``AppRunner``:
    unlike aiohttp's test server, a client that goes away does not cancel
    its handler); yields the base URL."""
    runner = web.AppRunner(app, access_log_class=AccessLogger)
    await runner.setup()
    site = web.SockSite(runner, socket.create_server(("127.0.0.1", 0)))
    await site.start()
    try:
        await wait_ready(app)
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def new_app(ami_port: int, **sections: Mapping[str, Any]) -> web.Application:
    return create_app(gateway_config(ami_port, **sections))


COOKIE = re.compile(r'^mansession_id="([a-z0-9]*[0-9a-f]{32})"; Version=1; Max-Age=(\d+)')


Client = TestClient[web.Request, web.Application]
MakeClient = Callable[[web.Application], Awaitable[Client]]


async def start(
    simulator: Simulator, aiohttp_client: MakeClient, **sections: Mapping[str, Any]
) -> Client:
    app = new_app(simulator.port, **sections)
    client = await aiohttp_client(app)
    await wait_ready(app)
    return client


async def login(client: Client, user: str = "admin", secret: str | None = None) -> str:
    client.session.cookie_jar.clear()  # each test names its session explicitly
    response = await client.get(
        "/asterisk/rawman",
        params={"action": "login", "username": user, "secret": secret or f"{user}-secret"},
    )
    assert await response.text() == "Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
    match = COOKIE.match(response.headers["Set-Cookie"])
    assert match is not None
    return match.group(1)


def basic(user: str, secret: str | None = None) -> dict[str, str]:
    """An Authorization header for ``user`` (by default the secret of TEST_USERS)."""
    token = base64.b64encode(f"{user}:{secret or user + '-secret'}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def rawman(client: Client, session: str | None, query: str) -> str:
    headers = {"Cookie": f'mansession_id="{session}"'} if session else {}
    client.session.cookie_jar.clear()
    response = await client.get(f"/asterisk/rawman?{query}", headers=headers)
    assert response.status == 200
    return await response.text()


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: Client) -> Samples:
    """``GET /metrics``, parsed: (sample name, labels) → value."""
    response = await client.get("/metrics")
    assert response.status == 200
    return parse_samples(await response.text())


async def scrape_url(base: str) -> Samples:
    """``scrape`` of a served gateway (``served``'s base URL)."""
    async with ClientSession() as http, http.get(f"{base}/metrics") as response:
        assert response.status == 200
        return parse_samples(await response.text())


def parse_samples(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return samples


def sample(samples: Samples, name: str, **labels: str) -> float:
    """One value; 0 when absent (a labelled counter appears at its first use)."""
    return samples.get((name, frozenset(labels.items())), 0.0)
