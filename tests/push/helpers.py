"""Small helpers shared by the push tests (no fixtures: conftest.py has them)."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession

from tests.support.sseclient import SseClient, SseMessage

EVENTS = "/asterisk/events"


def tick(name: str, privilege: str = "user,all", **extra: str) -> list[tuple[str, str]]:
    return [("Event", "UserEvent"), ("Privilege", privilege), ("UserEvent", name), *extra.items()]


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
