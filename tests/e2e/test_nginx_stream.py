"""deploy/nginx/ajam-gateway-ami.conf on real nginx (its stream module): TLS
AMI clients on one port, spread over the AMI doors of two gateways, each
seen by its instance with its own address and port (the PROXY protocol),
logging in, answered and fed events through its own instance; when one
instance drains, its clients get Event: Shutdown and, reconnecting through
nginx, land on the other."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

from gateway.lifecycle import drain
from gateway.simulator import Simulator
from tests.support.amidoor import BANNER, door_gateway
from tests.support.certs import self_signed
from tests.support.nginxproc import Nginx, nginx_binary
from tests.support.procs import free_port
from tests.support.simclient import Client

CLIENTS = 8


async def through_nginx(port: int, context: ssl.SSLContext) -> Client:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    assert await asyncio.wait_for(reader.readline(), 5) == BANNER
    client = Client(reader, writer)
    client.send("Action: Login", "ActionID: in", "Username: admin", "Secret: admin-secret")
    assert (await client.until("in")).get("Message") == "Authentication accepted"
    return client


async def test_tls_clients_spread_over_the_doors_and_move_on_a_drain(
    tmp_path: Path, simulator: Simulator
) -> None:
    nginx_binary()
    cert = self_signed(tmp_path)
    context = ssl.create_default_context(cafile=cert.cert)
    behind = {"trusted_proxies": ["127.0.0.1/32"]}  # nginx sends the PROXY line
    async with (
        door_gateway(simulator.port, ami_server=behind) as first,
        door_gateway(simulator.port, ami_server=behind) as second,
    ):
        nginx = Nginx(tmp_path / "nginx", free_port())
        await nginx.start(nginx.write_stream((first.port, second.port), cert))
        try:
            clients = [await through_nginx(nginx.port, context) for _ in range(CLIENTS)]
            assert first.door.connections + second.door.connections == CLIENTS
            # Each instance sees the client's own port (PROXY protocol), not nginx's.
            ours = {client.writer.get_extra_info("sockname")[1] for client in clients}
            seen = {c.peer.port for run in (first, second) for c in run.door._connections}
            assert seen == ours
            assert min(first.door.connections, second.door.connections) >= CLIENTS // 2 - 1
            simulator.emit([("Event", "UserEvent"), ("Privilege", "user,all"), ("UserEvent", "T")])
            for client in clients:
                await client.until("UserEvent")
                client.send("Action: Ping", "ActionID: p")
                assert (await client.until("p")).get("Ping") == "Pong"
            moved = first.door.connections
            await drain(first.gateway, 0.2)
            told = await asyncio.gather(*(_shut_down(client) for client in clients))
            assert sum(told) == moved
            assert first.door.connections == 0
            again = [await through_nginx(nginx.port, context) for _ in range(moved)]
            assert second.door.connections == CLIENTS
            for client in clients + again:
                client.close()
        finally:
            await nginx.stop()


async def _shut_down(client: Client) -> bool:
    """Whether this client was on the drained instance: it gets Shutdown, then
    the close; a client of the other instance hears nothing."""
    try:
        await asyncio.wait_for(client.until("Shutdown"), 1.0)
    except TimeoutError:
        return False
    assert await client.closed()
    return True
