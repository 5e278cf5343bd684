"""A Digest client written from the RFCs, and the gateway it talks to, for the
Digest tests (tests/http/test_digestauth.py, the end-to-end suites)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiohttp import ClientResponse

from gateway.app import GATEWAY
from gateway.simulator import Simulator
from tests.support.harness import Client, MakeClient, start
from tests.support.replay_rewrite import digest_response

NONCE = re.compile(r'nonce="(t1[0-9a-f]{32})"')
CHALLENGE = re.compile(
    r'^Digest algorithm=MD5, realm="asterisk", nonce="(t1[0-9a-f]{32})", qop="auth",'
    r' opaque="\1"(, stale=true)?$'
)
PING = "/asterisk/arawman?action=ping"
PONG = "Response: Success\r\nPing: Pong\r\n"


async def begin(
    simulator: Simulator, aiohttp_client: MakeClient, **sections: Mapping[str, Any]
) -> Client:
    http = {"node_id": "t1", **sections.pop("http", {})}
    return await start(simulator, aiohttp_client, http=http, **sections)


class Digest:
    """A Digest client written from the RFCs (tests/support/replay_rewrite.py's maths)."""

    def __init__(self, client: Client, user: str = "admin", secret: str = "admin-secret") -> None:
        self.client = client
        self.user = user
        self.secret = secret
        self.nonce = ""
        self.nc = 0

    def header(
        self, uri: str, *, method: str = "GET", qop: bool = True, nc: int | None = None
    ) -> str:
        self.nc = self.nc + 1 if nc is None else nc
        params = {
            b"username": self.user.encode(),
            b"realm": b"asterisk",
            b"nonce": self.nonce.encode(),
            b"uri": uri.encode(),
        }
        if qop:
            params |= {b"qop": b"auth", b"nc": b"%08x" % self.nc, b"cnonce": b"c0ffee"}
        response = digest_response(method.encode(), params, self.secret).decode()
        text = (
            f'Digest username="{self.user}", realm="asterisk", nonce="{self.nonce}",'
            f' uri="{uri}", response="{response}", opaque="{self.nonce}"'
        )
        if qop:
            text += f', algorithm=MD5, qop=auth, nc={self.nc:08x}, cnonce="c0ffee"'
        return text

    async def get(self, uri: str = PING, **options: Any) -> ClientResponse:
        headers = {"Authorization": self.header(uri, **options)} if self.nonce else {}
        response = await self.client.get(uri, headers=headers)
        self.learn(response)
        return response

    def learn(self, response: ClientResponse) -> None:
        if response.status == 401:
            match = CHALLENGE.match(response.headers["WWW-Authenticate"])
            assert match is not None, response.headers["WWW-Authenticate"]
            self.nonce, self.nc = match.group(1), 0

    async def login(self) -> None:
        assert (await self.get()).status == 401
        response = await self.get()
        assert response.status == 200
        assert (await response.text()).startswith(PONG)


def security_events(client: Client) -> list[str]:
    """The gateway's own security events (not those of its AMI login)."""
    _, events = client.app[GATEWAY].log.since(0)
    ours = f"/127.0.0.1/{client.server.port}"
    return [
        e.message.name
        for e in events
        if e.message.get("Privilege") == "security,all"
        and (e.message.get("LocalAddress") or "").endswith(ours)
    ]
