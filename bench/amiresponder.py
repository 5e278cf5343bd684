"""A lean AMI server for benchmarks: just enough Asterisk to be fast.

The full simulator (``gateway.simulator``) models calls and queues; here the
AMI side must never be the bottleneck.  It answers Challenge, Login, Ping,
ListCommands and Logoff, says ``Success`` to anything else, and emits
``UserEvent``s on demand, each stamped with its send time
(``time.monotonic()``, one clock for every process on the machine).
"""

from __future__ import annotations

import asyncio
import time
from typing import Final, cast

BANNER: Final = b"Asterisk Call Manager/11.0.0\r\n"
LIST_COMMANDS: Final = (
    "Ping: Keepalive command.  (Priv: <none>)",
    "UserEvent: Send an arbitrary event.  (Priv: user,all)",
    "CoreShowChannels: List currently active channels.  (Priv: system,reporting,all)",
)
"""What ListCommands answers: the gateway learns these actions' classes."""


def _fields(block: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            fields.setdefault(name.strip().lower(), value.strip())
    return fields


def answer(fields: dict[str, str]) -> bytes:
    """The reply to one action, as Asterisk 22 frames it."""
    action = fields.get("action", "").lower()
    lines = ["Response: Success"]
    if "actionid" in fields:
        lines.append(f"ActionID: {fields['actionid']}")
    if action == "challenge":
        lines.append("Challenge: 123456789")
    elif action == "login":
        lines.append("Message: Authentication accepted")
    elif action == "ping":
        lines += ["Ping: Pong", f"Timestamp: {time.time():.6f}"]
    elif action == "listcommands":
        lines += LIST_COMMANDS
    elif action == "logoff":
        lines = ["Response: Goodbye", *lines[1:], "Message: Thanks for all the fish."]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def user_event(name: str, **headers: str) -> bytes:
    lines = ["Event: UserEvent", "Privilege: user,all", f"UserEvent: {name}"]
    lines += [f"{key}: {value}" for key, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class _AmiPeer(asyncio.Protocol):
    """One AMI connection: every complete action in a read is answered in one write."""

    def __init__(self, responder: AmiResponder) -> None:
        self.responder = responder
        self.transport: asyncio.Transport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(BANNER)

    def data_received(self, data: bytes) -> None:
        blocks = (self.buffer + data).split(b"\r\n\r\n")
        self.buffer = blocks.pop()
        replies = []
        for block in blocks:
            fields = _fields(block)
            self.responder.actions += 1
            replies.append(answer(fields))
            if fields.get("action", "").lower() == "login":
                self.responder.peers.add(self)
                self.responder.logged_in.set()
        if replies and self.transport is not None:
            self.transport.write(b"".join(replies))

    def connection_lost(self, exc: Exception | None) -> None:
        self.responder.peers.discard(self)
        self.transport = None


class AmiResponder:
    """An AMI server on 127.0.0.1; ``emit`` broadcasts to every logged-in peer."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self.peers: set[_AmiPeer] = set()
        self.logged_in = asyncio.Event()
        self.actions = 0

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _AmiPeer(self), "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for peer in list(self.peers):
            if peer.transport is not None:
                peer.transport.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def emit(self, data: bytes) -> None:
        for peer in self.peers:
            if peer.transport is not None:
                peer.transport.write(data)

    def mark(self, name: str) -> None:
        """A control event the pollers watch for (``BenchSync``, ``BenchStop``)."""
        self.emit(user_event(name))

    async def stream(self, rate: float, seconds: float, padding: int = 0) -> int:
        """Emit ``rate`` stamped events per second for ``seconds``; returns the count.

        Each event is sent at its own scheduled time, so latency is measured
        from when Asterisk would have written it, never from a batch.
        ``padding`` adds a header of that many bytes to each event.
        """
        extra = {"Padding": "x" * padding} if padding else {}
        count = int(rate * seconds)
        start = time.monotonic()
        for seq in range(1, count + 1):
            due = start + (seq - 1) / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.emit(user_event("Bench", Seq=str(seq), Stamp=f"{time.monotonic():.6f}", **extra))
        return count
