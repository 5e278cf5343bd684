"""A scriptable fake Asterisk and a running AmiClient, for the AMI client tests.

The fake speaks just enough AMI over a real loopback socket: the banner,
Challenge, Login (MD5 or plain), Ping, ListCommands and Logoff.  Each test
scripts the rest through ``FakeAmi.on`` (lower-case action name -> handler):
hold an answer, answer late, close the socket mid-action, send events.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gateway.ami.client import AmiClient
from gateway.ami.codec import Parser
from gateway.ami.correlator import Broadcast
from gateway.ami.message import Field, Message
from gateway.ami.settings import AmiConfig
from gateway.tasks import cancel_and_wait

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
"""What the captured Asterisk 22 sends on connect."""

CHALLENGE = "621339616"
USERNAME = "gateway"
SECRET = "gateway-secret"

Handler = Callable[["Peer", Message], None]


class Peer:
    """One client connection, as the fake server sees it."""

    def __init__(self, number: int, writer: asyncio.StreamWriter) -> None:
        self.number = number
        self.writer = writer
        self.received: list[Message] = []
        self.closed = asyncio.Event()

    def send(self, *fields: Field) -> None:
        if not self.writer.is_closing():
            self.writer.write(Message(fields).to_wire())

    def reply(self, action: Message, status: str, *fields: Field) -> None:
        """A response carrying the action's ActionID, as Asterisk writes it."""
        action_id = action.get("ActionID")
        head = [("Response", status)] + ([] if action_id is None else [("ActionID", action_id)])
        self.send(*head, *fields)

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        """A connection reset instead of a clean close."""
        self.writer.transport.abort()


def hold(peer: Peer, action: Message) -> None:
    """A handler that never answers."""


@dataclass
class FakeAmi:
    """``await start()`` -> port; every action lands in ``received`` and its peer."""

    md5: bool = True
    secret: str = SECRET
    answer_pings: bool = True
    on: dict[str, Handler] = field(default_factory=dict)
    peers: list[Peer] = field(default_factory=list)
    received: list[Message] = field(default_factory=list)
    raw: bytearray = field(default_factory=bytearray)
    """Every byte any client wrote, in arrival order."""
    ping_times: list[float] = field(default_factory=list)
    actions_per_read: list[int] = field(default_factory=list)
    """How many actions each socket read completed: shows coalesced writes."""
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    port: int = 0

    async def start(self) -> int:
        """Listen; after ``stop()`` the same port again."""
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Asterisk dies: the listener and every connection go at once."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for peer in self.peers:
            peer.abort()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:  # since 3.11.? it also waits for open connections
            await server.wait_closed()

    def named(self, name: str) -> list[Message]:
        return [m for m in self.received if (m.get("Action") or "").lower() == name.lower()]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        peer = Peer(len(self.peers), writer)
        self.peers.append(peer)
        writer.write(BANNER)
        parser = Parser(expect_banner=False, accept_actions=True)
        try:
            while data := await reader.read(65536):
                self.raw.extend(data)
                actions = [item for item in parser.feed(data) if isinstance(item, Message)]
                self.actions_per_read.append(len(actions))
                for action in actions:
                    self._on_action(peer, action)
        except ConnectionError:
            pass
        finally:
            peer.closed.set()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            self._tasks.discard(task)

    def _on_action(self, peer: Peer, action: Message) -> None:
        peer.received.append(action)
        self.received.append(action)
        name = (action.get("Action") or "").lower()
        if name == "ping":
            self.ping_times.append(asyncio.get_running_loop().time())
        handler = self.on.get(name) or getattr(self, f"_{name}", None)
        if handler is None:
            peer.reply(action, "Error", ("Message", "Invalid/unknown command"))
        else:
            handler(peer, action)

    def _challenge(self, peer: Peer, action: Message) -> None:
        if self.md5:
            peer.reply(action, "Success", ("Challenge", CHALLENGE))
        else:
            peer.reply(action, "Error", ("Message", "Must specify AuthType"))

    def _login(self, peer: Peer, action: Message) -> None:
        md5 = hashlib.md5((CHALLENGE + self.secret).encode()).hexdigest()
        if (self.md5 and action.get("Key") == md5) or action.get("Secret") == self.secret:
            peer.reply(action, "Success", ("Message", "Authentication accepted"))
            peer.send(("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", "415"))
        else:  # Asterisk answers, then closes the socket (fixture login_fail)
            peer.reply(action, "Error", ("Message", "Authentication failed"))
            peer.close()

    def _ping(self, peer: Peer, action: Message) -> None:
        if self.answer_pings:
            peer.reply(action, "Success", ("Ping", "Pong"), ("Timestamp", "1795770484.780954"))

    def _listcommands(self, peer: Peer, action: Message) -> None:
        peer.reply(action, "Success", ("Ping", "Keepalive command.  (Priv: <none>)"))

    def _logoff(self, peer: Peer, action: Message) -> None:
        peer.reply(action, "Goodbye", ("Message", "Thanks for all the fish."))
        peer.close()


def settings(port: int, **changes: Any) -> AmiConfig:
    """Fast link tuning for tests; ``changes`` override any field."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "username": USERNAME,
        "secret": SECRET,
        "connect_timeout": 2.0,
        "action_timeout": 30.0,
        "ping_interval": 60.0,
        "reconnect_min": 0.02,
        "reconnect_max": 0.1,
    }
    return AmiConfig(**(values | changes))


@dataclass
class Sink:
    """What the client reported through its callbacks."""

    events: list[tuple[Message, str | None]] = field(default_factory=list)
    links: list[tuple[bool, str]] = field(default_factory=list)

    def on_event(self, event: Broadcast) -> None:
        self.events.append((event.message, event.owner))

    def on_link(self, up: bool, reason: str) -> None:
        self.links.append((up, reason))

    def named(self, name: str) -> list[Message]:
        return [m for m, _ in self.events if m.name == name]


def new_client(config: AmiConfig, sink: Sink, **kwargs: Any) -> AmiClient:
    return AmiClient(config, on_event=sink.on_event, on_link=sink.on_link, **kwargs)


@contextlib.asynccontextmanager
async def running(client: AmiClient) -> AsyncIterator[asyncio.Task[None]]:
    """The client's run loop as a task, cancelled and awaited on the way out."""
    task = asyncio.create_task(client.run())
    try:
        yield task
    finally:
        await cancel_and_wait(task)


@contextlib.contextmanager
def loop_problems() -> Iterator[list[dict[str, Any]]]:
    """Whatever reached the loop's exception handler, and ResourceWarnings at gc."""
    loop = asyncio.get_running_loop()
    problems: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: problems.append(context))
    try:
        yield problems
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gc.collect()
        problems.extend({"message": str(w.message)} for w in caught)
    finally:
        loop.set_exception_handler(None)
