"""The gateway with its AMI door open, against the simulator, and AMI
clients of the door (``tests.support.simclient.Client`` over its socket)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.amiserver import AmiDoor
from gateway.app import GATEWAY
from gateway.wiring import Gateway
from tests.support.harness import TEST_USERS, new_app, wait_ready
from tests.support.replay_clock import SETTLE_TURNS, turns
from tests.support.simclient import WAIT, Client

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


@dataclass(frozen=True, slots=True)
class DoorRun:
    app: web.Application
    gateway: Gateway

    @property
    def door(self) -> AmiDoor:
        door = self.gateway.ami_door
        assert door is not None
        return door

    @property
    def port(self) -> int:
        return self.door.port

    def written_to(self, address: str) -> int:
        """``simreplay.Target``: bytes the door wrote to ``IPV4/TCP/<host>/<port>``."""
        _, _, host, port = address.split("/")
        return self.door.written_to(host, int(port))

    async def settle(self) -> None:
        """``simreplay.Target``: AMI is one ordered stream, so once a Ping is
        answered every event the simulator wrote before it is in the log."""
        if self.gateway.ami.ready:
            await self.gateway.ami.send([("Action", "Ping")])
        await turns(SETTLE_TURNS)


@contextlib.asynccontextmanager
async def door_gateway(ami_port: int, **sections: Mapping[str, Any]) -> AsyncIterator[DoorRun]:
    """The gateway (HTTP not listening) with ``[ami_server]`` on port 0."""
    door = {"enabled": True, "port": 0, **sections.pop("ami_server", {})}
    app = new_app(ami_port, ami_server=door, **sections)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await wait_ready(app)
        yield DoorRun(app, app[GATEWAY])
    finally:
        await runner.cleanup()


async def door_client(
    port: int, user: str | None = "admin", secret: str | None = None, *, rcvbuf: int = 0
) -> Client:
    """A door connection past the banner, logged in as ``user`` unless None;
    ``rcvbuf`` shrinks its socket's receive buffer (a slow reader's kernel
    then holds little of what the gateway writes)."""
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    async with asyncio.timeout(WAIT):
        assert await reader.readline() == BANNER
    client = Client(reader, writer)
    if user is not None:
        secret = secret or TEST_USERS[user]["secret"]
        client.send(
            "Action: Login", "ActionID: door-login", f"Username: {user}", f"Secret: {secret}"
        )
        answer = await client.until("door-login")
        assert answer.get("Message") == "Authentication accepted", answer
    return client
