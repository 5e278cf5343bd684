"""A worker process of AMI door clients: ``python3 -m bench.amiclients``.

It opens ``--clients`` connections to the gateway's AMI door, logs each in
and prints ``logged_in N``; on ``go`` (a stdin line) it waits for events.  It
prints ``synced`` once every client has seen a ``BenchSync`` marker, and when
every client has seen ``BenchStop`` it prints ``result {json}`` and exits: the
same line protocol and tally as ``bench.pollers`` (whose ``SessionPoller``
counts each client: latency from the event's ``Stamp``, duplicates and
losses from its ``Seq``).  ``--stall N`` makes N more clients that log in,
then read nothing at all (a tiny receive buffer, reading paused): the
gateway must hold at most its ``buffer_bytes`` for each, then drop it.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from typing import Final, cast

from bench.pollers import SessionPoller, Tally, _say, _stdin_lines, run_worker

LOGIN: Final = b"Action: Login\r\nUsername: bench\r\nSecret: bench-secret\r\n\r\n"
ACCEPTED: Final = b"Message: Authentication accepted\r\n\r\n"
STALLED_RCVBUF: Final = 4096
DROP_NOTICE: Final = 1.0
"""Seconds a stalled client reads at the end, to see whether it was dropped."""


class AmiClient(asyncio.Protocol):
    """One AMI connection: whole messages go to its poller, as a poll answer would."""

    def __init__(self, poller: SessionPoller, logged_in: asyncio.Future[None]) -> None:
        self.poller = poller
        self.logged_in = logged_in
        self.transport: asyncio.Transport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(LOGIN)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.logged_in.done():
            at = self.buffer.find(ACCEPTED)
            if at < 0:
                return
            self.buffer = self.buffer[at + len(ACCEPTED) :]
            self.logged_in.set_result(None)
        end = self.buffer.rfind(b"\r\n\r\n")
        if end < 0:
            return
        whole, self.buffer = self.buffer[: end + 4], self.buffer[end + 4 :]
        if not self.poller.on_response(200, whole) and self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.logged_in.done():
            self.logged_in.set_exception(ConnectionError("closed before the login"))
        self.poller.on_lost(exc)


async def connect(port: int, poller: SessionPoller, *, stalled: bool = False) -> AmiClient:
    loop = asyncio.get_running_loop()
    logged_in: asyncio.Future[None] = loop.create_future()
    sock = socket.socket()
    if stalled:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, STALLED_RCVBUF)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    _, client = await loop.create_connection(lambda: AmiClient(poller, logged_in), sock=sock)
    await logged_in
    if stalled and client.transport is not None:
        client.transport.pause_reading()
    return client


async def run(port: int, clients: int, stall: int) -> dict[str, object]:
    commands = await _stdin_lines()
    tally, stalled_tally = Tally(), Tally()
    on_sync = asyncio.Event()
    pollers = [SessionPoller(tally, on_sync, clients) for _ in range(clients)]
    stuck = [SessionPoller(stalled_tally, asyncio.Event(), max(stall, 1)) for _ in range(stall)]
    for poller in pollers:
        await connect(port, poller)
    stalled = [await connect(port, poller, stalled=True) for poller in stuck]
    _say(f"logged_in {clients}")
    if (await commands.readline()).strip() != b"go":
        raise SystemExit("expected 'go'")
    await on_sync.wait()
    _say("synced")
    await asyncio.gather(*(poller.done for poller in pollers))
    for client in stalled:  # reading again is how a client learns it was dropped
        if client.transport is not None:
            client.transport.resume_reading()
    await asyncio.sleep(DROP_NOTICE)
    dropped = sum(1 for poller in stuck if poller.done.done() and not poller.tally.stopped)
    return {**tally.result(clients), "stalled_dropped": dropped}


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.amiclients")
    parser.add_argument("--port", type=int, required=True, help="the gateway's AMI door")
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--stall", type=int, default=0, help="clients that never read")
    args = parser.parse_args()
    return run_worker(run(args.port, args.clients, args.stall))


if __name__ == "__main__":
    sys.exit(main())
