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
import enum
import logging
import random
import secrets
import ssl
from collections.abc import Callable, Sequence
from typing import Final

from gateway.ami.challenge import md5_key
from gateway.ami.codec import Banner, Discarded, Parser, encode_checked
from gateway.ami.correlator import Broadcast, Completed, Correlator
from gateway.ami.message import Field, Message
from gateway.ami.settings import AmiConfig
from gateway.errors import ActionTimeout, GatewayError, NotConnected

log = logging.getLogger("gateway.ami")

READ_CHUNK: Final = 65536
"""One read's size: large enough that a burst of events costs few syscalls."""

LOGIN_TIMEOUT_FACTOR: Final = 3.0
"""A login may take Asterisk's 1 s failure delay plus a slow start."""

LOGOFF_TIMEOUT: Final = 2.0
"""Shutdown must not hang on a dead Asterisk; its Goodbye comes at once."""

CLOSED: Final = "AMI client closed"
STOPPED: Final = "AMI client stopped"
"""The ``on_link(False, reason)`` reasons for ``close()`` and a cancelled ``run()``."""


class LinkState(enum.Enum):
    """Where the one AMI link is; only ``UP`` takes actions."""

    DOWN = "down"
    """No link: not started yet, or waiting to reconnect."""
    CONNECTING = "connecting"
    """Opening the socket and logging in."""
    UP = "up"
    """Logged in: actions are sent."""
    CLOSING = "closing"
    """``close()`` on a link that was up: logging off, then down for good."""
    CLOSED = "closed"
    """``close()``: no action is sent and no reconnect is tried any more."""


EventSink = Callable[[Broadcast], None]
LinkSink = Callable[[bool, str], None]


class LinkLost(Exception):
    """The socket closed or broke; internal to the client's run loop."""


LINK_ERRORS: Final = (OSError, LinkLost, GatewayError, TimeoutError)
"""What ends one connection and leads to a reconnect."""


def backoff_delay(attempt: int, low: float, high: float) -> float:
    """Capped exponential backoff with full jitter in its upper half."""
    ceiling = min(high, low * (2 ** min(attempt, 30)))
    return random.uniform(ceiling / 2, ceiling)


def tls_context(settings: AmiConfig) -> ssl.SSLContext | None:
    """The context for Asterisk's TLS manager port (manager.conf tlsenable)."""
    if not settings.tls:
        return None
    context = ssl.create_default_context(cafile=settings.tls_ca)
    if not settings.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


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
        self._idle = asyncio.Event()
        """Set while no action waits for its answer (what a drain waits for)."""
        self._idle.set()
        self._writer: asyncio.StreamWriter | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop of the current link, kept: ``get_running_loop()`` makes a
        getpid() system call, and ``_call`` needed it twice per action."""
        self._outbox: list[bytes] = []
        """Actions written in this loop iteration, sent together (see ``_send``)."""
        self._state = LinkState.DOWN
        self.banner = ""
        self.reconnects = 0
        self.login_failures = 0
        self.last_error = ""

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def ready(self) -> bool:
        """Logged in to Asterisk and able to take actions."""
        return self._state is LinkState.UP

    @property
    def _closing(self) -> bool:
        """``close()`` was called."""
        return self._state in (LinkState.CLOSING, LinkState.CLOSED)

    def _closed(self) -> bool:
        """Closed for good: ``run()`` ends (a method: the state changes under the loop)."""
        return self._state is LinkState.CLOSED

    @property
    def pending(self) -> int:
        return len(self._futures)

    async def wait_idle(self) -> None:
        """Until no action is waiting for its answer."""
        await self._idle.wait()

    async def run(self) -> None:
        """Connect, serve, reconnect; until cancelled or ``close()``d."""
        attempt = 0
        while not self._closed():
            reason = STOPPED
            try:
                await self._connect_and_serve()
            except LINK_ERRORS as exc:
                reason = self._lost(exc)
            finally:
                was_up = self._link_down(reason)
            _raise_if_cancelling()
            if self._closed():
                return
            attempt = 0 if was_up else attempt + 1
            delay = backoff_delay(attempt, self.settings.reconnect_min, self.settings.reconnect_max)
            self.reconnects += 1
            await asyncio.sleep(delay)

    def _lost(self, exc: BaseException) -> str:
        reason = str(exc) or type(exc).__name__
        if not self._closing:
            self.last_error = reason
            log.warning("AMI link to %s:%s lost: %s", *self._where(), reason)
        return reason

    def _where(self) -> tuple[str, int]:
        return self.settings.host, self.settings.port

    async def _connect_and_serve(self) -> None:
        self._state = LinkState.CONNECTING
        s = self.settings
        context = tls_context(s)
        async with asyncio.timeout(s.connect_timeout):
            reader, writer = await asyncio.open_connection(s.host, s.port, ssl=context)
        self._writer = writer
        self._loop = asyncio.get_running_loop()
        parser = Parser()
        try:
            async with asyncio.TaskGroup() as group:
                reading = group.create_task(self._read_loop(reader, parser))
                await self._login()
                # close() during the login: up, but closing at once.
                connecting = self._state is LinkState.CONNECTING
                self._state = LinkState.UP if connecting else LinkState.CLOSING
                self._notify(self._on_link, True, "")
                log.info("AMI logged in to %s:%s (%s)", s.host, s.port, self.banner)
                if self._on_login is not None:
                    group.create_task(self._after_login())
                group.create_task(self._keepalive())
                await reading
        except BaseExceptionGroup as group:
            # Not ``except*``: before Python 3.11.4 (Debian 12 has 3.11.2) a
            # raise inside it comes out wrapped in a new ExceptionGroup, which
            # run()'s ``except LINK_ERRORS`` missed, and the link never came back.
            raise link_error(group) from None
        finally:
            writer.close()

    async def _after_login(self) -> None:
        assert self._on_login is not None
        try:
            result = self._on_login(self)
            if asyncio.iscoroutine(result):
                await result
        except Exception:  # a failing hook must not take the link down
            log.exception("AMI on_login hook failed")

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
                self._notify(self._on_event, outcome)

    @staticmethod
    def _notify(sink: Callable[..., None], *args: object) -> None:
        """Call an app callback; its bug must not take the AMI link down."""
        try:
            sink(*args)
        except Exception:
            log.exception("AMI callback %r failed", sink)

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
            key = md5_key(challenge, s.secret)
            fields: list[Field] = [("Action", "Login"), ("AuthType", "MD5")]
            fields += [("Username", s.username), ("Key", key)]
        else:
            fields = [("Action", "Login"), ("Username", s.username), ("Secret", s.secret)]
        answer = await self._call(fields, timeout)
        if answer[0].name != "Success":
            self.login_failures += 1
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
        if not self.ready:
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
        writer, loop = self._writer, self._loop
        if writer is None or loop is None or writer.is_closing():
            raise NotConnected
        gateway_id, wire_fields = self._correlator.prepare(
            fields, owner=owner, sync_originate=sync_originate
        )
        future: asyncio.Future[tuple[Message, ...]] = loop.create_future()
        self._futures[gateway_id] = future
        # A bare timer on the future, not asyncio.timeout(): the context
        # manager's bookkeeping was ~8% of a forwarded action's CPU (profile
        # in bench/README.md).
        timer = loop.call_later(timeout, _expire, future)
        self._idle.clear()
        try:
            self._send(loop, encode_checked(wire_fields))  # prepare() validated them
            return await future
        finally:
            timer.cancel()
            del self._futures[gateway_id]
            if not self._futures:
                self._idle.set()
            # Forget a timed-out or abandoned action (a no-op once answered).
            self._correlator.cancel(gateway_id)

    def _send(self, loop: asyncio.AbstractEventLoop, data: bytes) -> None:
        """Coalesce the actions of one loop iteration into one write.

        Under load many requests forward an action in the same iteration; one
        send() instead of one each saves the syscalls and Asterisk's reads
        (the rtt profile in bench/README.md).  Order is kept.
        """
        if not self._outbox:
            loop.call_soon(self._flush)
        self._outbox.append(data)

    def _flush(self) -> None:
        """The outbox only ever holds actions for the current socket: a
        dropped link empties it (those actions failed), so none is resent."""
        if not self._outbox:
            return
        data = b"".join(self._outbox)
        self._outbox.clear()
        writer = self._writer
        if writer is not None and not writer.is_closing():
            writer.write(data)

    def _link_down(self, reason: str) -> bool:
        """The link ended; True when it had been up (logged in)."""
        was_up = self._state in (LinkState.UP, LinkState.CLOSING)
        closing = self._closing
        self._state = LinkState.CLOSED if closing else LinkState.DOWN
        self._writer = None
        self._outbox.clear()
        for outcome in self._correlator.fail_all(NotConnected.message):
            self._resolve(outcome)
        if was_up:
            self._notify(self._on_link, False, CLOSED if closing else reason)
        return was_up

    async def close(self) -> None:
        """Log off cleanly (best effort, bounded), drop the socket, end ``run()``."""
        was_ready = self.ready
        self._state = LinkState.CLOSING if was_ready else LinkState.CLOSED
        if was_ready:
            with contextlib.suppress(GatewayError, OSError, TimeoutError):
                await self._call([("Action", "Logoff")], LOGOFF_TIMEOUT)
        writer = self._writer
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def link_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """What a failed connection's TaskGroup raised, as run() handles it: its
    first link error when every error in it is one; else the group itself
    (a bug, or a cancel, which must not pass for a dropped link)."""
    rest = group.split(LINK_ERRORS)[1]
    if rest is not None:
        return group
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def _expire(future: asyncio.Future[tuple[Message, ...]]) -> None:
    if not future.done():
        future.set_exception(ActionTimeout())


def _raise_if_cancelling() -> None:
    """Python 3.11's TaskGroup swallows a cancel that arrives while it unwinds
    a failed child; without this, a cancelled ``run()`` would reconnect."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
