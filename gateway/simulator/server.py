"""An AMI server that behaves like the captured Asterisk 22.10.1.

Tests connect the gateway to it over a real loopback socket, and
``ajam-gateway --demo`` runs it in-process.  Its behaviour is written in
code, modelled on the captures in ``fixtures/asterisk-22/ami``: the banner,
plain and MD5 logins, the session rules (event mask, filters, nothing
written while an action runs), the actions those captures exercise, and
Local channel calls through the captured test dialplan, with the same event
sequences.  Values that change from run to run (ids, times, Uniqueids,
Local sequence numbers) are generated.

``time_scale`` makes simulated time run faster: with 0.1, a call that waits
2 simulated seconds takes 0.2 real seconds, and ``call_events`` counts calls
per simulated second.  A ``ManualClock`` instead moves only when the test
says (tests/support/replay_clock.py), so that no timer races the test's requests.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

from gateway.access.classes import parse_privilege
from gateway.ami.message import Field, Message, decode
from gateway.simulator.channels import Fields, SimClock, event
from gateway.simulator.connection import Connection
from gateway.simulator.dialplan import OriginateRequest
from gateway.simulator.manager import SimUser
from gateway.simulator.pbx import Pbx
from gateway.tasks import cancel_and_wait

__all__ = ["DEFAULT_USERS", "SimUser", "Simulator"]

DEFAULT_USERS: Final[Mapping[str, SimUser]] = MappingProxyType(
    {
        "admin": SimUser("admin-secret", read="all", write="all"),
        "reader": SimUser("reader-secret", read="call,system", write=""),
        "caller": SimUser("caller-secret", read="call", write="originate,call"),
    }
)
"""The three users of the captured manager.conf."""

SHUTDOWN_GRACE: Final = 0.027
"""The captured Asterisk closed the socket 27 ms after its Shutdown event."""

GENERATED_EXTENSIONS: Final = ("100", "300")
"""Background calls alternate between these: short calls, one with a UserEvent."""


class Simulator:
    """A simulated Asterisk: ``await start()``, connect, ``await stop()``."""

    def __init__(
        self,
        *,
        users: Mapping[str, SimUser] | None = None,
        call_events: float = 0.0,
        auth_fail_delay: float = 1.0,
        answer_pings: bool = True,
        time_scale: float = 1.0,
        clock: SimClock | None = None,
    ) -> None:
        self.users: Mapping[str, SimUser] = dict(DEFAULT_USERS if users is None else users)
        self.call_events = call_events
        self.auth_fail_delay = auth_fail_delay
        self.answer_pings = answer_pings
        """False swallows Ping, to test a gateway that misses its Pong."""
        self.received: list[Message] = []
        """Every action received on any connection, in order."""
        self.clock = SimClock(time_scale) if clock is None else clock
        self.pbx = Pbx(self.clock, self.broadcast)
        self._server: asyncio.Server | None = None
        self._connections: dict[Connection, asyncio.Task[None] | None] = {}
        self._port = 0
        self._booted = time.monotonic()
        self._logins = 0
        self._login_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._generator: asyncio.Task[None] | None = None

    # -- life cycle --------------------------------------------------------

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None
    ) -> int:
        """Listen and return the port; after ``stop()`` port 0 means the same port again.

        ``tls`` serves the TLS manager port (manager.conf tlsenable) instead.
        """
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        self._server = await asyncio.start_server(
            self._serve, host, port or self._port, reuse_address=True, ssl=tls
        )
        self._port = self._server.sockets[0].getsockname()[1]
        self._booted = time.monotonic()
        if self.call_events > 0:
            self._generator = asyncio.get_running_loop().create_task(self._generate())
        return self._port

    async def stop(self) -> None:
        """Asterisk dies: the listener and every connection close at once."""
        await self._close(abort=True)

    async def shutdown(self, restart: bool = True) -> None:
        """A clean ``core restart now``: Event Shutdown to every session, then close."""
        fields = (("Shutdown", "Cleanly"), ("Restart", "True" if restart else "False"))
        self.broadcast(event("Shutdown", "system", fields))
        await asyncio.sleep(SHUTDOWN_GRACE)
        await self._close(abort=False)

    async def _close(self, *, abort: bool) -> None:
        if self._generator is not None:
            await cancel_and_wait(self._generator)
            self._generator = None
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = [task for task in self._connections.values() if task is not None]
        for conn in list(self._connections):
            conn.close(abort=abort)
        await self.pbx.close()
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(self, reader, writer)
        self._connections[conn] = asyncio.current_task()
        try:
            await conn.serve()
        finally:
            del self._connections[conn]

    # -- what tests look at ------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def connections(self) -> int:
        """Client connections open right now."""
        return len(self._connections)

    @property
    def logins(self) -> int:
        """Successful logins since the simulator was made."""
        return self._logins

    async def wait_for_logins(self, n: int, timeout: float = 5.0) -> None:
        """Until ``n`` logins have succeeded in total (TimeoutError after ``timeout``)."""
        if self._logins >= n:
            return
        waiter = (n, asyncio.get_running_loop().create_future())
        self._login_waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter[1]
        finally:
            self._login_waiters.remove(waiter)

    def written_to(self, address: str) -> int:
        """Bytes written so far to the open connection from ``address``
        (``IPV4/TCP/127.0.0.1/<port>``, as the session's RemoteAddress)."""
        return sum(c.written for c in self._connections if c.remote_address == address)

    def emit(self, fields: Sequence[Field]) -> None:
        """Broadcast an event as the PBX would; its Privilege line decides who gets it."""
        self.broadcast(tuple(fields))

    # -- the Hub that sessions use -----------------------------------------

    def broadcast(self, fields: Fields) -> None:
        message = Message(fields)
        data = message.to_wire()
        category = parse_privilege(message.get("Privilege") or "")
        text = decode(data)
        for conn in list(self._connections):
            conn.offer(data, category, text)

    def record(self, action: Message) -> None:
        self.received.append(action)

    def note_login(self) -> None:
        self._logins += 1
        for n, future in self._login_waiters:
            if self._logins >= n and not future.done():
                future.set_result(None)

    def uptime(self) -> int:
        return int(time.monotonic() - self._booted)

    # -- background calls --------------------------------------------------

    async def _generate(self) -> None:
        """``call_events`` calls per simulated second, each a full event sequence."""
        count = 0
        while True:
            await self.clock.sleep(1 / self.call_events)
            exten = GENERATED_EXTENSIONS[count % len(GENERATED_EXTENSIONS)]
            number = str(2000 + count % 1000)
            count += 1
            self.pbx.originate(
                OriginateRequest(
                    f"Local/{exten}@test",
                    application="Wait",
                    data="1",
                    callerid=(f"Caller {number}", number),
                    announce=False,
                )
            )
