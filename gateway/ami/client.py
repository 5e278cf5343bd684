"""The one AMI socket: a thin asyncio shell around the codec and correlator.

One persistent TCP connection per gateway instance.  The client logs in
(MD5 challenge, plain login as the fallback), reads in one task, pings to
prove the link is alive, and reconnects with capped exponential backoff and
jitter.  Every action waits for its own answer under a timeout.  When the
link drops, every pending action fails at once with ``Response: Error`` and
a clear Message; nothing is ever sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import secrets
import ssl
from collections.abc import Callable, Sequence
from typing import Final

from gateway.ami.codec import Banner, Discarded, Parser, encode_action
from gateway.ami.correlator import Broadcast, Completed, Correlator
from gateway.ami.message import Field, Message
from gateway.config import AmiConfig
from gateway.errors import ActionTimeout, GatewayError, NotConnected, ProtocolError

log = logging.getLogger("gateway.ami")

READ_CHUNK: Final = 65536
"""One read's size: large enough that a burst of events costs few syscalls."""

LOGIN_TIMEOUT_FACTOR: Final = 3.0
"""A login may take Asterisk's 1 s failure delay plus a slow start."""

EventSink = Callable[[Message, str | None], None]
LinkSink = Callable[[bool, str], None]


class LinkLost(Exception):
    """The socket closed or broke; internal to the client's run loop."""


def backoff_delay(attempt: int, low: float, high: float) -> float:
    """Capped exponential backoff with full jitter in its upper half."""
    ceiling = min(high, low * (2 ** min(attempt, 30)))
    return random.uniform(ceiling / 2, ceiling)


class AmiClient:
    def __init__(
        self,
        settings: AmiConfig,
        *,
        node_id: str = "",
        on_event: EventSink,
        on_link: LinkSink,
        on_login: Callable[[AmiClient], object] | None = None,
    ) -> None:
        self.settings = settings
        self._on_event = on_event
        self._on_link = on_link
        self._on_login = on_login
        self._correlator = Correlator(node_id, secrets.token_hex(4))
        self._futures: dict[str, asyncio.Future[tuple[Message, ...]]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._ready = False
        self.banner = ""
        self._was_up = False
        self.reconnects = 0
        self.last_error = ""

    @property
    def ready(self) -> bool:
        """Logged in to Asterisk and able to take actions."""
        return self._ready

    @property
    def pending(self) -> int:
        return len(self._futures)

    async def run(self) -> None:
        """Connect, serve, reconnect; until cancelled."""
        attempt = 0
        while True:
            try:
                await self._connect_and_serve()
            except (OSError, LinkLost, ProtocolError, GatewayError, TimeoutError) as exc:
                self.last_error = str(exc) or type(exc).__name__
                log.warning("AMI link to %s:%s lost: %s", *self._where(), self.last_error)
            finally:
                self._link_down(self.last_error or "connection closed")
            attempt = 0 if self._was_up else attempt + 1
            delay = backoff_delay(attempt, self.settings.reconnect_min, self.settings.reconnect_max)
            self.reconnects += 1
            await asyncio.sleep(delay)

    def _where(self) -> tuple[str, int]:
        return self.settings.host, self.settings.port

    async def _connect_and_serve(self) -> None:
        self._was_up = False
        s = self.settings
        context = ssl.create_default_context() if s.tls else None
        async with asyncio.timeout(s.connect_timeout):
            reader, writer = await asyncio.open_connection(s.host, s.port, ssl=context)
        self._writer = writer
        parser = Parser()
        try:
            async with asyncio.TaskGroup() as group:
                reading = group.create_task(self._read_loop(reader, parser))
                await self._login()
                self._was_up = True
                self._ready = True
                self._on_link(True, "")
                log.info("AMI logged in to %s:%s (%s)", s.host, s.port, self.banner)
                if self._on_login is not None:
                    group.create_task(self._after_login())
                group.create_task(self._keepalive())
                await reading
        except* (OSError, LinkLost, ProtocolError, GatewayError, TimeoutError) as group_error:
            raise group_error.exceptions[0] from None
        finally:
            writer.close()

    async def _after_login(self) -> None:
        assert self._on_login is not None
        result = self._on_login(self)
        if asyncio.iscoroutine(result):
            await result

    async def _read_loop(self, reader: asyncio.StreamReader, parser: Parser) -> None:
        while True:
            data = await reader.read(READ_CHUNK)
            if not data:
                raise LinkLost("Asterisk closed the connection")
            for item in parser.feed(data):
                self._dispatch(item)

    def _dispatch(self, item: Banner | Message | Discarded) -> None:
        if isinstance(item, Banner):
            self.banner = item.line
            return
        if isinstance(item, Discarded):
            log.warning("AMI message discarded (%s): %.80s", item.reason, item.head)
            return
        for outcome in self._correlator.feed(item):
            if isinstance(outcome, Completed):
                self._resolve(outcome)
            elif isinstance(outcome, Broadcast):
                self._on_event(outcome.message, outcome.owner)

    def _resolve(self, outcome: Completed) -> None:
        future = self._futures.get(outcome.gateway_id)
        if future is not None and not future.done():
            future.set_result(outcome.messages)

    async def _login(self) -> None:
        s = self.settings
        timeout = s.action_timeout * LOGIN_TIMEOUT_FACTOR
        answer = await self._call([("Action", "Challenge"), ("AuthType", "MD5")], timeout)
        challenge = answer[0].get("Challenge")
        if answer[0].name == "Success" and challenge:
            key = hashlib.md5((challenge + s.secret).encode()).hexdigest()
            fields: list[Field] = [("Action", "Login"), ("AuthType", "MD5")]
            fields += [("Username", s.username), ("Key", key)]
        else:
            fields = [("Action", "Login"), ("Username", s.username), ("Secret", s.secret)]
        answer = await self._call(fields, timeout)
        if answer[0].name != "Success":
            message = answer[0].get("Message") or "login refused"
            raise LinkLost(f"AMI login as {s.username!r} failed: {message}")

    async def _keepalive(self) -> None:
        interval = self.settings.ping_interval
        while True:
            await asyncio.sleep(interval)
            try:
                answer = await self._call([("Action", "Ping")], min(interval, 10.0))
            except ActionTimeout:
                raise LinkLost("no Pong from Asterisk") from None
            if answer[0].name != "Success":
                raise LinkLost("Ping failed: " + (answer[0].get("Message") or ""))

    async def send(
        self,
        fields: Sequence[Field],
        *,
        owner: str | None = None,
        sync_originate: bool = False,
        timeout: float | None = None,
    ) -> tuple[Message, ...]:
        """Run one action for an HTTP client; the answer has its ActionID back."""
        if not self._ready:
            raise NotConnected
        wait = self.settings.action_timeout if timeout is None else timeout
        return await self._call(fields, wait, owner=owner, sync_originate=sync_originate)

    async def _call(
        self,
        fields: Sequence[Field],
        timeout: float,
        *,
        owner: str | None = None,
        sync_originate: bool = False,
    ) -> tuple[Message, ...]:
        writer = self._writer
        if writer is None or writer.is_closing():
            raise NotConnected
        encode_action(fields)  # refuse bad input before anything is registered
        gateway_id, wire_fields = self._correlator.prepare(
            fields, owner=owner, sync_originate=sync_originate
        )
        future: asyncio.Future[tuple[Message, ...]] = asyncio.get_running_loop().create_future()
        self._futures[gateway_id] = future
        try:
            writer.write(encode_action(wire_fields))
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            self._correlator.cancel(gateway_id)
            raise ActionTimeout from None
        finally:
            del self._futures[gateway_id]

    def _link_down(self, reason: str) -> None:
        was_ready, self._ready = self._ready, False
        self._writer = None
        for outcome in self._correlator.fail_all(NotConnected.message):
            self._resolve(outcome)
        if was_ready:
            self._on_link(False, reason)

    async def close(self) -> None:
        """Log off cleanly (best effort, bounded), then drop the socket."""
        if self._ready:
            with contextlib.suppress(GatewayError, OSError, TimeoutError):
                await self._call([("Action", "Logoff")], 2.0)
        writer = self._writer
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
