"""HTTP client helpers shared by the harness and its worker processes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

import aiohttp
from yarl import URL

USERNAME: Final = "bench"
SECRET: Final = "bench-secret"
"""The one bench user (read=user, write=all): see ``bench.scenarios.gateway_toml``."""
LOGIN_CONCURRENCY: Final = 32
"""Logins in flight per process: enough to keep the gateway busy, not a storm."""


class BenchError(Exception):
    """A scenario could not run (not a measured error: those are counted)."""


@dataclass(frozen=True, slots=True)
class Target:
    base: str
    """``http://127.0.0.1:PORT/asterisk/rawman``"""

    def url(self, query: str) -> URL:
        return URL(f"{self.base}?{query}", encoded=True)


def connector() -> aiohttp.TCPConnector:
    """No pool limit: one connection per held poll is the point."""
    return aiohttp.TCPConnector(limit=0, force_close=False)


def client_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=connector(),
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
    )


async def login(http: aiohttp.ClientSession, target: Target) -> str:
    """One AJAM login; returns the ``Cookie`` header value for that session."""
    url = target.url(f"action=login&username={USERNAME}&secret={SECRET}")
    async with http.get(url) as resp:
        body = await resp.read()
        cookie = resp.headers.get("Set-Cookie", "")
    if resp.status != 200 or b"Response: Success" not in body or not cookie:
        raise BenchError(f"login failed: {resp.status} {body[:120]!r}")
    return cookie.split(";", 1)[0]


async def login_many(http: aiohttp.ClientSession, target: Target, count: int) -> list[str]:
    gate = asyncio.Semaphore(LOGIN_CONCURRENCY)

    async def one() -> str:
        async with gate:
            return await login(http, target)

    return list(await asyncio.gather(*(one() for _ in range(count))))
