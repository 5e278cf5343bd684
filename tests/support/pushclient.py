"""The client side of the push tests: log in, name the session, ask AJAM, read
an SSE stream to a marker (no fixtures: tests/push/conftest.py has them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientSession, web

from tests.support.sseclient import SseClient, SseMessage

EVENTS = "/asterisk/events"

Serve = Callable[..., Awaitable[tuple[web.Application, str]]]
"""The ``serve`` fixture (tests/push/conftest.py): ``await serve(push={...})``
is a gateway app and its base URL."""


def cookie(session: str) -> dict[str, str]:
    return {"Cookie": f'mansession_id="{session}"'}


async def login(base: str, user: str = "admin") -> str:
    async with ClientSession() as http:
        url = f"{base}/asterisk/json?action=login&username={user}&secret={user}-secret"
        async with http.get(url) as response:
            return str((await response.json())["session"])


async def ajam(base: str, session: str, query: str) -> Any:
    """One /json request in ``session``; its parsed answer."""
    async with ClientSession() as http:
        url = f"{base}/asterisk/json?{query}&mansession_id={session}"
        async with http.get(url) as response:
            return await response.json()


async def until_marker(stream: SseClient, marker: str) -> list[SseMessage]:
    """Every data message up to the UserEvent ``marker`` (included)."""
    got: list[SseMessage] = []
    while True:
        (message,) = await stream.events(1)
        got.append(message)
        if message.json.get("UserEvent") == marker:
            return got
