"""deploy/nginx/ajam-gateway.conf on real nginx in front of two real gateway
processes (node ids ``a`` and ``b``) and the simulator, and the clients that
talk to it (tests/e2e/test_nginx.py)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import ClientSession, DummyCookieJar, TCPConnector

from gateway.simulator import Simulator
from tests.support.certs import self_signed
from tests.support.nginxproc import Nginx, nginx_binary
from tests.support.procs import GatewayProcess, free_port, write_config

ACCEPTED = "Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
SET_COOKIE = re.compile(r'^mansession_id="([a-z0-9]*)([0-9a-f]{32})"')


@dataclass
class Client:
    style: str
    session: str = ""
    node: str = ""
    replies: list[tuple[int, str]] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    """Every node this client was logged in on, in order."""

    def carry(self, params: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """(query, headers) carrying the session in this client's style."""
        if not self.session:
            return params, {}
        if self.style == "param":
            return {**params, "mansession_id": self.session}, {}
        quote = '"' if self.style == "quoted" else ""
        return params, {"Cookie": f"mansession_id={quote}{self.session}{quote}"}


@dataclass
class Cluster:
    nginx: Nginx
    sim: Simulator
    gateways: dict[str, GatewayProcess]
    http: ClientSession

    async def get(self, client: Client | None, **params: str) -> tuple[int, str, str]:
        query, headers = client.carry(params) if client else (params, {})
        url = f"{self.nginx.base}/asterisk/rawman"
        async with self.http.get(url, params=query, headers=headers) as response:
            return response.status, await response.text(), response.headers.get("Set-Cookie", "")

    async def login(self, client: Client) -> None:
        status, body, cookie = await self.get(
            client, action="login", username="admin", secret="admin-secret"
        )
        assert (status, body) == (200, ACCEPTED)
        match = SET_COOKIE.match(cookie)
        assert match is not None, cookie
        client.node = match.group(1)
        client.session = match.group(1) + match.group(2)
        client.nodes.append(client.node)

    def emit(self, seq: int) -> None:
        self.sim.emit(
            [
                ("Event", "UserEvent"),
                ("Privilege", "user,all"),
                ("UserEvent", "Tick"),
                ("Seq", str(seq)),
            ]
        )


@contextlib.asynccontextmanager
async def running_cluster(
    tmp_path: Path, simulator: Simulator, push: Mapping[str, object] | None = None
) -> AsyncIterator[Cluster]:
    """nginx with the shipped file in front of gateway processes ``a`` and ``b``."""
    nginx_binary()  # skips early without nginx
    cert = self_signed(tmp_path)
    gateways: dict[str, GatewayProcess] = {}
    for node in ("a", "b"):
        port = free_port()
        config = write_config(
            tmp_path / f"{node}.toml",
            ami_port=simulator.port,
            port=port,
            node_id=node,
            http={"drain_time": 5.0},
            push=push,
        )
        gateways[node] = GatewayProcess(config, port, tmp_path / f"{node}.log")
    nginx = Nginx(tmp_path / "nginx", free_port())
    try:
        await asyncio.gather(*(g.start() for g in gateways.values()))
        await asyncio.gather(*(g.wait_ready() for g in gateways.values()))
        await nginx.start(nginx.write({n: g.port for n, g in gateways.items()}, cert))
        connector = TCPConnector(ssl=False, limit=0)
        async with ClientSession(connector=connector, cookie_jar=DummyCookieJar()) as http:
            yield Cluster(nginx, simulator, gateways, http)
    finally:
        await nginx.stop()
        for gateway in gateways.values():
            await gateway.stop()
