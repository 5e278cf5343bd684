"""One client connection to the simulated Asterisk: a manager session.

Like Asterisk, a session runs its actions one after another and writes
nothing else while one runs: events raised meanwhile are held and written
after the action's answer.  Broadcast events reach it only when it is logged
in and the event's classes are all in both its read classes and its event
mask, and its filters (``Action: Filter``) let them through.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Final

from gateway.access.classes import ALL, parse_classes
from gateway.access.posixre import PosixRegex
from gateway.ami.actionreader import ActionReader, ClientMessage, Problem
from gateway.ami.message import Field
from gateway.simulator.actions import perform
from gateway.simulator.answers import Answer, error
from gateway.simulator.captured import BANNER
from gateway.simulator.channels import Fields, event
from gateway.simulator.manager import Hub, SimUser

logger = logging.getLogger(__name__)

READ_CHUNK: Final = 65536
MAX_UNREAD: Final = 8 * 1024 * 1024
"""A client that lets this much pile up unread is dropped, as Asterisk drops
a session whose writes time out."""


def event_tv(epoch: float) -> str:
    """``2026-11-27T09:08:00.917+0000``."""
    millis = int(epoch * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{millis:03d}+0000"


def _socket_address(info: object) -> str:
    if not isinstance(info, tuple) or len(info) < 2:
        return "IPV4/TCP/0.0.0.0/0"
    family = "IPV6" if ":" in str(info[0]) else "IPV4"
    return f"{family}/TCP/{info[0]}/{info[1]}"


class Connection:
    """A manager session on one TCP connection."""

    def __init__(
        self, hub: Hub, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.hub = hub
        self._reader = reader
        self._writer = writer
        self._actions = ActionReader()
        self.username = ""
        self.authenticated = False
        self.readperm = 0
        self.writeperm = 0
        self.send_events = ALL
        self.filters: list[tuple[bool, PosixRegex]] = []
        """(include, regex) pairs added by ``Action: Filter``."""
        self.challenge = ""
        self.session_id = f"0x{random.getrandbits(44) | 0x7F0000000000:x}"
        self.session_tv = event_tv(time.time())
        self.local_address = _socket_address(writer.get_extra_info("sockname"))
        self.remote_address = _socket_address(writer.get_extra_info("peername"))
        self.written = 0
        """Bytes handed to the socket so far: a test waits until it has read them all."""
        self._busy = False
        self._held: list[bytes] = []
        self._closing = False
        self._action: asyncio.Task[Answer] | None = None

    # -- I/O ---------------------------------------------------------------

    async def serve(self) -> None:
        self._write(BANNER)
        try:
            while not self._closing:
                data = await self._reader.read(READ_CHUNK)
                if not data:
                    break
                for item in self._actions.feed(data):
                    await self._on_item(item)
                    if self._closing:
                        break
        except ConnectionError:
            pass
        finally:
            self.close()

    def close(self, *, abort: bool = False) -> None:
        """Hang up: flush and close, or with ``abort`` drop what is unwritten (a crash)."""
        self._closing = True
        if self._action is not None:
            self._action.cancel()
        if abort:
            self._writer.transport.abort()
        elif not self._writer.is_closing():
            self._writer.close()

    def _write(self, data: bytes) -> None:
        if self._writer.is_closing():
            return
        if self._writer.transport.get_write_buffer_size() > MAX_UNREAD:
            logger.warning("simulator: dropping a client that does not read")
            self.close(abort=True)
            return
        self._writer.write(data)
        self.written += len(data)

    # -- actions -----------------------------------------------------------

    async def _on_item(self, item: ClientMessage) -> None:
        action = item.message
        self.hub.record(action)
        problem = item.problem
        # Asterisk runs a line with a bare CR or a NUL as it read it.
        if problem is not None and problem is not Problem.INVALID_CHARACTER:
            self._finish(error(action, problem.value))
            return
        self._busy = True
        # A task of its own, so that hanging up can abandon a waiting
        # action (a login delay, a synchronous Originate).
        self._action = asyncio.get_running_loop().create_task(perform(self, action))
        try:
            await asyncio.wait({self._action})
        finally:
            self._busy = False
        if not self._action.cancelled():
            self._finish(self._action.result())

    def _finish(self, reply: Answer) -> None:
        for message in reply.messages:
            self._write(message.to_wire())
        held, self._held = self._held, []
        for data in held:
            self._write(data)
        if reply.close:
            self.close()

    # -- events ------------------------------------------------------------

    def offer(self, data: bytes, category: int, text: str) -> None:
        """A broadcast event: written, held, or not for this session."""
        if not self.authenticated or self._closing:
            return
        if (self.readperm & category) != category or (self.send_events & category) != category:
            return
        if not self._passes_filters(text):
            return
        if self._busy:
            self._held.append(data)
        else:
            self._write(data)

    def _passes_filters(self, text: str) -> bool:
        includes = [regex for include, regex in self.filters if include]
        excludes = [regex for include, regex in self.filters if not include]
        if includes and not any(regex.search(text) for regex in includes):
            return False
        return not any(regex.search(text) for regex in excludes)

    def log_in(self, username: str, user: SimUser) -> None:
        self.username = username
        self.authenticated = True
        self.readperm = parse_classes(user.read)
        self.writeperm = parse_classes(user.write)
        self.hub.note_login()

    def security_event(self, name: str, severity: str, *fields: Field) -> Fields:
        """The header that Asterisk's security events share (SuccessfulAuth...)."""
        return event(
            name,
            "security",
            (("EventTV", event_tv(time.time())), ("Severity", severity), ("Service", "AMI")),
            (("EventVersion", "1"),),
            fields,
        )
