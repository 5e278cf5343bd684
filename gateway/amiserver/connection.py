"""One AMI client: the thin asyncio shell around ``ServerProtocol``.

The connection is a session in the gateway's ``SessionStore`` (door
``AMI``), made at connect, so it counts in ``max_sessions`` and, once logged
in, in its user's ``max_sessions``; every action goes through the one
``Dispatcher`` with the same rights, limits and login gate as AJAM.

Two tasks share the socket, never writing inside each other's message:

* the reader reads, and for each action writes the events logged before
  it, runs it (one at a time: Asterisk reads nothing more while an action
  runs), writes its answer, then the events held meanwhile; then it waits
  until the output buffer has room again;
* the streamer writes events while no action runs.  It sleeps on the
  session's waiter, which the shared notifier wakes when an event this
  session may see is logged, and which the store kicks when the session
  ends (a drain, a reload that removed the user, a Logoff).

Events are read from the shared log by the session's cursor, only while the
socket's buffer is under ``buffer_bytes``; a client that falls behind the
ring is told ``GatewayEventsLost``.  Output that makes no progress for
``write_timeout`` seconds ends the connection (Asterisk's writetimeout), so
a client that stops reading costs at most its buffer.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from gateway.access.classes import CLASS_BITS
from gateway.ami.message import Field, header
from gateway.amiserver.accesslog import log_action
from gateway.amiserver.protocol import SHUTDOWN, Phase, Refused, Request, Run, ServerProtocol
from gateway.amiserver.settings import AmiServerConfig
from gateway.core.dispatch import Dispatcher
from gateway.core.events import EventLog, StoredEvent
from gateway.core.metrics import Metrics
from gateway.core.phase import Lifecycle
from gateway.core.replies import Door, Peer, Reply, error_message
from gateway.core.sessions import Session
from gateway.core.sessionstore import SessionStore
from gateway.errors import GatewayError

log = logging.getLogger("gateway.amiserver")

READ_CHUNK: Final = 65536
"""One read: a burst of pipelined actions costs few system calls."""
EVENT_BATCH: Final = 1000
"""Log events looked at per step of the pump: a long run this session does
not want still lets the loop turn."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DoorParts:
    """What every connection of the door uses, handed over by the wiring."""

    dispatcher: Dispatcher
    sessions: SessionStore
    log: EventLog
    lifecycle: Lifecycle
    metrics: Metrics
    settings: AmiServerConfig
    banner: Callable[[], str]
    """The line to greet with (the configured one, or the upstream's)."""
    access_log: bool = True
    """One access-log line per action (``[log] access``)."""


class StreamWaiter:
    """The connection's standing waiter in the session store.  ``write_now``
    writes what fits at once (the notifier's wake-up then costs no task
    switch); only what must wait for room wakes the streamer."""

    __slots__ = ("_signal", "_write_now", "ended")

    def __init__(self, write_now: Callable[[], bool]) -> None:
        self.ended = False
        self._signal = asyncio.Event()
        self._write_now = write_now

    def wake(self) -> None:
        """An event this session may see was logged."""
        if not self._write_now():
            self._signal.set()

    def kick(self) -> None:
        """The session ended (drain, reload, Logoff, a refused login)."""
        self.ended = True
        self._signal.set()

    async def wait(self) -> None:
        await self._signal.wait()
        self._signal.clear()


def _shutdown_event() -> StoredEvent:
    """The drain's Shutdown as a log event, for ``Session.wants``."""
    return StoredEvent(seq=0, message=SHUTDOWN, classes=CLASS_BITS["system"], name="shutdown")


class Connection:
    def __init__(
        self,
        parts: DoorParts,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: Peer,
        session: Session,
    ) -> None:
        self._parts = parts
        self._reader = reader
        self._writer = writer
        self.peer = peer
        self.session = session
        self._protocol = ServerProtocol()
        self._waiter = StreamWaiter(self._write_ready)
        self._busy = False
        """An action is running: events wait until its answer is written."""
        self.written = 0
        """Bytes handed to the socket so far (one add per write)."""
        self._tasks: list[asyncio.Task[None]] = []
        self._high = parts.settings.buffer_bytes
        writer.transport.set_write_buffer_limits(high=self._high - 1, low=self._high // 2)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # The kernel's send buffer is the client's too: Linux autotunes it
            # up to tcp_wmem's maximum (4 MiB here) for a client that reads
            # nothing, beyond ``buffer_bytes`` and out of the ring's reach.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self._high)

    @property
    def authenticated(self) -> bool:
        return self.session.authenticated

    async def serve(self) -> None:
        parts = self._parts
        self._write(self._protocol.banner(parts.banner()))
        parts.sessions.set_waiter(self.session, self._waiter)
        timer = asyncio.get_running_loop().call_later(
            parts.settings.auth_timeout, self._auth_expired
        )
        try:
            async with asyncio.TaskGroup() as group:
                self._tasks = [group.create_task(self._read()), group.create_task(self._stream())]
        finally:
            timer.cancel()
            parts.sessions.clear_waiter(self.session, self._waiter)
            parts.sessions.remove(self.session)
            await self._close()

    def stop(self) -> None:
        """End the connection now (the app's cleanup): the socket is dropped
        and its tasks cancelled, so that ``serve`` itself returns normally
        (Python 3.11's stream server fails on a handler that ends cancelled)."""
        self._writer.transport.abort()
        for task in self._tasks:
            task.cancel()

    def _auth_expired(self) -> None:
        """Asterisk's authtimeout: closed without a word."""
        if not self.session.authenticated:
            log.info("AMI client %s did not log in in time", self.peer.address)
            self._writer.transport.abort()

    def _stop_others(self) -> None:
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()

    # -- input and actions ----------------------------------------------------

    async def _read(self) -> None:
        try:
            while self._protocol.phase is Phase.OPEN:
                try:
                    data = await self._reader.read(READ_CHUNK)
                except ConnectionError:
                    return
                if not data:
                    return
                for request in self._protocol.feed(data):
                    if not await self._serve_one(request):
                        return
        finally:
            self._stop_others()

    async def _serve_one(self, request: Request) -> bool:
        """Answer one request; False when the connection is to end.

        Events logged before the request are written (or passed over) first,
        under the mask and filters they met, as Asterisk's process_events
        runs before each line is read: an ``Events: on`` must not bring back
        what came while they were off."""
        await self._pump()
        if isinstance(request, Refused):
            self._write(request.answer)
            self._account(request.fields, None, request.answer, 0.0)
        else:
            await self._run(request)
        await self._pump()
        if self._protocol.phase is Phase.CLOSING or self._waiter.ended:
            await self._end_session()
            return False
        return await self._room()

    async def _run(self, request: Run) -> None:
        started = time.monotonic()
        reply: Reply | None = None
        self._busy = True
        try:
            reply = await self._parts.dispatcher.handle(
                self.session, request.fields, self.peer, started
            )
            data = self._protocol.answer(reply)
        except GatewayError as error:
            data = self._protocol.error(error, request.fields)
            reply = Reply((error_message(error.message, None),))
        finally:
            self._busy = False
        self._write(data)
        self._account(request.fields, reply, data, time.monotonic() - started)

    def _account(
        self, fields: list[Field], reply: Reply | None, data: bytes, seconds: float
    ) -> None:
        """The action's metric and its access-log line."""
        action = (header(fields, "Action") or "").strip()
        self._parts.metrics.action(action, reply, Door.AMI)
        if not self._parts.access_log:
            return
        identity = self.session.identity
        status = reply.head[0].name if reply is not None and reply.head else "Error"
        log_action(
            self.peer.address,
            identity.username if identity else "",
            fields,
            status,
            len(data),
            seconds,
            action,
        )

    # -- events ---------------------------------------------------------------

    async def _stream(self) -> None:
        try:
            while True:
                await self._waiter.wait()
                if self._busy:
                    continue  # the action's end writes what came meanwhile, or ends
                if self._waiter.ended:
                    await self._end_session()
                    return
                await self._pump()
        finally:
            self._stop_others()

    async def _pump(self) -> None:
        """Write the events this session may see, waiting for room as needed."""
        while not self._write_ready():
            if not await self._room():
                return

    def _write_ready(self) -> bool:
        """Write what this session may see now, as far as the buffer has room;
        False when the rest must wait for room, True when nothing is left
        (or nothing may be written: an action runs, no login yet)."""
        session, events_log, metrics = self.session, self._parts.log, self._parts.metrics
        transport = self._writer.transport
        while (
            session.authenticated
            and not self._busy
            and session.cursor < events_log.last_seq
            and not transport.is_closing()
        ):
            room = self._high - transport.get_write_buffer_size()
            if room <= 0:
                return False
            before = session.cursor
            lost, events, cursor = session.pending(events_log, EVENT_BATCH, max_bytes=room)
            data, skipped = self._protocol.events(lost, events)
            metrics.skipped(lost, events_log.count(before, cursor) - lost - len(events) + skipped)
            metrics.delivered(events)
            session.move_cursor(cursor)
            self._write(data)
        return True

    async def _room(self) -> bool:
        """Until the output buffer is under its bound; False when the client
        read nothing for ``write_timeout`` (the connection is then dropped)."""
        writer = self._writer
        transport = writer.transport
        while transport.get_write_buffer_size() >= self._high:
            before = transport.get_write_buffer_size()
            try:
                async with asyncio.timeout(self._parts.settings.write_timeout):
                    await writer.drain()
            except TimeoutError:
                if transport.get_write_buffer_size() >= before:
                    log.warning(
                        "AMI client %s read nothing for %.0f s: disconnected",
                        self.peer.address,
                        self._parts.settings.write_timeout,
                    )
                    transport.abort()
                    return False
            except ConnectionError:
                return False
        return True

    async def _end_session(self) -> None:
        """The session ended; in a drain the client first gets what was logged
        before it, then ``Event: Shutdown`` if it may see a system event."""
        if self._parts.lifecycle.closing and self.session.authenticated:
            await self._pump()
            if self.session.wants(_shutdown_event()):
                self._write(self._protocol.shutdown())

    # -- the socket -----------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if data and not self._writer.is_closing():
            self._writer.write(data)
            self.written += len(data)

    async def _close(self) -> None:
        """Flush and close; a client that still reads nothing is dropped."""
        writer = self._writer
        writer.close()
        try:
            async with asyncio.timeout(self._parts.settings.write_timeout):
                await writer.wait_closed()
        except (TimeoutError, OSError):
            writer.transport.abort()
