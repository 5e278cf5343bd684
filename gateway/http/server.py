"""aiohttp's HTTP/1.1 server, with the gateway's limits on connections.

* Parser limits and errors (``gateway.http.parserlimits``): aiohttp answers
  a request it cannot parse itself, before any middleware; ``GatewayRunner``
  answers with our own page instead (414, 431 or 400, never echoing input).
* ``[limits] max_connections``: a connection beyond it gets a bare
  ``503 Service Unavailable`` and is closed at once, before its request is
  read (so a client that already sent data may see a reset instead).
* ``[limits] max_connections_per_address``: the same for a connection beyond
  the cap of its TCP peer's address.  A peer in ``[http] trusted_proxies``
  is not capped: nginx's connections all come from one address and carry
  many clients (nginx's own ``limit_conn`` caps those); ``max_connections``
  still bounds it.
* Timeouts (``gateway.http.deadlines``): a request head within
  ``header_timeout``, a body within ``body_timeout``, an idle kept-alive
  connection for ``keepalive_timeout``; a client that reads nothing of its
  response for ``send_timeout`` is dropped.  A handler at work (a held
  waitevent) has no deadline.  Counted in ``ConnectionCounts``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from gateway.access.users import Network
from gateway.errors import RequestTimeout
from gateway.http.accesslog import AccessLogger
from gateway.http.clientaddr import is_trusted, parse_ip
from gateway.http.deadlines import ConnectionClock, Expired, Phase, Timeouts
from gateway.http.parserlimits import SERVER_LOGGER, describe, error_for

REFUSED: Final = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 21\r\nConnection: close\r\n\r\nToo many connections\n"
)
REFUSED_ADDRESS: Final = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 39\r\nConnection: close\r\n\r\nToo many connections from your address\n"
)
TIMED_OUT: Final = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 16\r\nConnection: close\r\n\r\nRequest timeout\n"
)
"""A head not complete within header_timeout (HAProxy answers so too)."""
REFUSAL_LOG_EVERY: Final = 1000
"""One log line per this many refused connections: a flood must not fill the disk."""
SEND_TIMEOUT: Final = "send_timeout"

log = logging.getLogger(SERVER_LOGGER)


class ConnectionLimits(Protocol):
    """The ``[limits]`` the server enforces on connections (``gateway.config.LimitsConfig``)."""

    @property
    def max_connections(self) -> int: ...
    @property
    def header_timeout(self) -> float: ...
    @property
    def keepalive_timeout(self) -> float: ...
    @property
    def body_timeout(self) -> float: ...
    @property
    def send_timeout(self) -> float: ...
    def connections_per_address(self) -> int: ...


class GatewayProtocol(RequestHandler):
    """One HTTP connection: refused beyond the limits, timed by a
    ``ConnectionClock``; our own parser error pages."""

    def __init__(self, manager: GatewayServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._gateway_server = manager
        self._clock = ConnectionClock(manager.timeouts, self._loop.time())
        self._admitted = False
        """Counted by the server (a refused connection is not)."""
        self._timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None
        self._payload: StreamReader | None = None
        self._address: str | None = None
        """Counted toward this address's cap while open."""
        self._timed_out = False
        """The body timed out: the handler answers 408, then the connection closes."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        server = self._gateway_server
        address = peer_key(transport.get_extra_info("peername"))
        refusal = server.admit(address)
        if refusal is not None:
            assert isinstance(transport, asyncio.Transport)
            transport.write(refusal)
            transport.close()
            return
        self._admitted = True
        self._address = address if server.capped(address) else None
        self._arm()

    def connection_lost(self, exc: BaseException | None) -> None:
        for timer in (self._timer, self._send_timer):
            if timer is not None:
                timer.cancel()
        self._timer = self._send_timer = None
        if self._admitted:
            self._gateway_server.release(self._address)
            self._admitted = False
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if data:
            self._clock.received(self._loop.time())
            self._arm()
        super().data_received(data)

    def request_started(self, payload: StreamReader) -> None:
        """A request's head is parsed and goes to its handler (``GatewayServer``)."""
        self._payload = payload
        complete = payload.is_eof()
        self._clock.request(self._loop.time(), complete)
        if not complete:
            payload.on_eof(self._body_complete)
        self._arm()

    def _body_complete(self) -> None:
        self._clock.body_complete(self._loop.time())
        self._arm()

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        if self._timed_out:
            resp.force_close()
        result = await super().finish_response(request, resp, start_time)
        if self._timed_out:
            self.force_close()  # before aiohttp would read the rest of the body
        else:
            self._clock.responded(self._loop.time())
            self._arm()
        return result

    def _arm(self) -> None:
        """Have a timer at the clock's deadline (or earlier: it re-arms)."""
        deadline = self._clock.deadline
        if deadline is None:
            return
        timer = self._timer
        if timer is not None:
            if timer.when() <= deadline:
                return
            timer.cancel()
        self._timer = self._loop.call_at(deadline, self._on_deadline)

    def _on_deadline(self) -> None:
        self._timer = None
        expired = self._clock.expired(self._loop.time())
        if expired is None:
            self._arm()
        else:
            self._expire(expired)

    def _expire(self, expired: Expired) -> None:
        self._gateway_server.timed_out(expired.timeout, self.peername)
        if self._clock.phase is Phase.BODY and expired.answer and self._payload is not None:
            # The handler is waiting for the body: its read raises, the error
            # becomes our 408 page (and its log line and metric), then we close.
            self._timed_out = True
            self._payload.set_exception(RequestTimeout())
            return
        if expired.answer and self.transport is not None:
            self.transport.write(TIMED_OUT)
        self.force_close()

    def pause_writing(self) -> None:
        super().pause_writing()
        timeout = self._gateway_server.limits.send_timeout
        self._send_timer = self._loop.call_later(timeout, self._send_timed_out)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def _send_timed_out(self) -> None:
        self._send_timer = None
        self._gateway_server.timed_out(SEND_TIMEOUT, self.peername)
        self.force_close()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status != 400 or not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        self.logger.info("bad request from %s: %s", request.remote, describe(exc))
        response = error_for(exc, self.max_line_size)
        response.force_close()
        return response


def peer_key(peer: object) -> str | None:
    """The address a TCP peer is counted under; None for a unix socket."""
    if not isinstance(peer, tuple) or not peer:
        return None
    address = parse_ip(str(peer[0]))
    return None if address is None else str(address)


@dataclass(slots=True)
class ConnectionCounts:
    """What the server refused and closed, for ``/metrics``."""

    refused: dict[str, int] = field(default_factory=dict)
    """By the ``[limits]`` key that refused: max_connections, max_connections_per_address."""
    timed_out: dict[str, int] = field(default_factory=dict)
    """By the ``[limits]`` key that ran out."""
    open: int = 0
    max_open: int = 0
    """``[limits] max_connections`` as it stands (a SIGHUP may change it)."""


class GatewayServer(web.Server):
    """aiohttp's low-level server, making ``GatewayProtocol`` connections and
    keeping the per-address counts."""

    def __init__(
        self,
        handler: Any,
        *,
        limits: ConnectionLimits,
        trusted_proxies: Sequence[Network] = (),
        request_factory: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(handler, request_factory=self._request, **kwargs)
        self._app_request = request_factory
        self.trusted_proxies = tuple(trusted_proxies)
        self.limits = limits
        self.timeouts = timeouts_of(limits)
        self.counts = ConnectionCounts(max_open=limits.max_connections)
        self._per_address: dict[str, int] = {}

    def configure(self, limits: ConnectionLimits) -> None:
        """New limits (SIGHUP): for connections from now on; timeouts at once."""
        self.limits = limits
        self.timeouts = timeouts_of(limits)
        self.counts.max_open = limits.max_connections

    def __call__(self) -> RequestHandler:
        return GatewayProtocol(self, loop=self._loop, **self._kwargs)

    def _request(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> web.BaseRequest:
        assert isinstance(protocol, GatewayProtocol)  # made by __call__ below
        protocol.request_started(payload)
        request: web.BaseRequest = self._app_request(message, payload, protocol, writer, task)
        return request

    def capped(self, address: str | None) -> bool:
        """Whether the per-address cap applies to this TCP peer."""
        if address is None or not self.trusted_proxies:
            return address is not None
        parsed = parse_ip(address)
        return parsed is None or not is_trusted(parsed, self.trusted_proxies)

    def admit(self, address: str | None) -> bytes | None:
        """None when a new connection may stay (and is counted); else the refusal."""
        if len(self._connections) > self.limits.max_connections:
            return self._refuse("max_connections", self.limits.max_connections, REFUSED)
        if self.capped(address):
            assert address is not None
            held = self._per_address.get(address, 0)
            cap = self.limits.connections_per_address()
            if held >= cap:
                return self._refuse("max_connections_per_address", cap, REFUSED_ADDRESS)
            self._per_address[address] = held + 1
        self.counts.open += 1
        return None

    def release(self, address: str | None) -> None:
        """An admitted connection closed; ``address`` when it was counted there."""
        self.counts.open -= 1
        if address is not None:
            held = self._per_address.pop(address, 0) - 1
            if held > 0:
                self._per_address[address] = held

    def _refuse(self, key: str, limit: int, answer: bytes) -> bytes:
        refused = self.counts.refused[key] = self.counts.refused.get(key, 0) + 1
        if refused % REFUSAL_LOG_EVERY == 1:
            log.warning("connection refused: over %s=%d (%d refused so far)", key, limit, refused)
        return answer

    def timed_out(self, key: str, peer: object) -> None:
        count = self.counts.timed_out[key] = self.counts.timed_out.get(key, 0) + 1
        log.debug("connection from %s closed: %s", peer, key)
        if count % REFUSAL_LOG_EVERY == 1:
            log.info("connection closed on %s (%d so far)", key, count)


def timeouts_of(limits: ConnectionLimits) -> Timeouts:
    return Timeouts(limits.header_timeout, limits.keepalive_timeout, limits.body_timeout)


class GatewayRunner(web.AppRunner):
    """``web.AppRunner`` whose server is a ``GatewayServer`` and whose access
    log is the redacting ``AccessLogger`` unless told otherwise."""

    def __init__(
        self,
        app: web.Application,
        *,
        limits: ConnectionLimits,
        trusted_proxies: Sequence[Network] = (),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("access_log_class", AccessLogger)  # aiohttp's logs secrets
        super().__init__(app, **kwargs)
        self.limits = limits
        self.trusted_proxies = trusted_proxies

    @property
    def counts(self) -> ConnectionCounts:
        server = self.server
        assert isinstance(server, GatewayServer), "after setup()"
        return server.counts

    def configure(self, limits: ConnectionLimits) -> None:
        """Apply reloaded limits (SIGHUP)."""
        self.limits = limits
        server = self.server
        assert isinstance(server, GatewayServer), "after setup()"
        server.configure(limits)

    async def _make_server(self) -> web.Server:
        base = await super()._make_server()
        return GatewayServer(
            base.request_handler,
            request_factory=base.request_factory,
            handler_cancellation=base.handler_cancellation,
            loop=asyncio.get_running_loop(),
            limits=self.limits,
            trusted_proxies=self.trusted_proxies,
            **base._kwargs,
        )
