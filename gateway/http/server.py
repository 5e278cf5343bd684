"""aiohttp's HTTP/1.1 server, with the gateway's limits on connections and headers.

* Parser limits (``server_limits``): header count, header size and request
  line length, as ``handler_args`` of the app, so tests see them too.
* Parser errors: aiohttp answers them itself, before any middleware, with
  the first 100 bytes of the offending line in both the body and the log:
  an AJAM login carries its secret in that line.  The server's logger drops
  the exception and keeps a one-line summary (``RedactParserErrors``), and
  ``GatewayRunner`` answers with our own page: 414 for a request line over
  the limit, 431 for a header, 400 for anything else, never echoing input.
* ``[limits] max_connections``: a connection beyond it gets a bare
  ``503 Service Unavailable`` and is closed at once, before its request is
  read (so a client that already sent data may see a reset instead).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final, Protocol

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from gateway.http.accesslog import AccessLogger
from gateway.http.errors import error_page

SERVER_LOGGER: Final = "gateway.http.server"
REQUEST_LINE_ALLOWANCE: Final = 8192
"""Room for the method, path and version on top of ``max_query``."""
REFUSED: Final = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 21\r\nConnection: close\r\n\r\nToo many connections\n"
)
REFUSAL_LOG_EVERY: Final = 1000
"""One log line per this many refused connections: a flood must not fill the disk."""

log = logging.getLogger(SERVER_LOGGER)


def describe(error: HttpProcessingError) -> str:
    """What went wrong, without a byte of the request."""
    if isinstance(error, LineTooLong):
        return f"line over {error.args[1]} bytes"
    return type(error).__name__


class RedactParserErrors(logging.Filter):
    """Replace a parser error's traceback (which quotes the request) by a summary."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.msg = f"{record.getMessage()}: {describe(error)}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def server_logger() -> logging.Logger:
    """The logger aiohttp's protocol writes to, with the redacting filter once."""
    if not any(isinstance(f, RedactParserErrors) for f in log.filters):
        log.addFilter(RedactParserErrors())
    return log


class ParserLimits(Protocol):
    """The ``[limits]`` the parser enforces (``gateway.config.LimitsConfig``)."""

    @property
    def max_query(self) -> int: ...
    @property
    def max_header_size(self) -> int: ...
    @property
    def max_headers(self) -> int: ...


def server_limits(limits: ParserLimits) -> dict[str, Any]:
    """``handler_args`` for the app: parser limits and the redacting logger."""
    line = limits.max_query + REQUEST_LINE_ALLOWANCE
    if line == limits.max_header_size:
        line += 1  # the limit in LineTooLong tells a request line from a header
    return {
        "max_line_size": line,
        "max_field_size": limits.max_header_size,
        "max_headers": limits.max_headers,
        "logger": server_logger(),
    }


def error_for(error: HttpProcessingError, max_line_size: int) -> web.Response:
    if isinstance(error, LineTooLong):
        if str(error.args[1]) == str(max_line_size):
            return error_page(414, "URI Too Long", "The request line is too long.")
        return error_page(431, "Request Header Fields Too Large", "A request header is too large.")
    if error.message.lower().startswith("too many headers"):
        return error_page(431, "Request Header Fields Too Large", "Too many request headers.")
    return error_page(400, "Bad Request", "The request could not be parsed.")


class GatewayProtocol(RequestHandler):
    """One HTTP connection: refused beyond the limit; our own parser error pages."""

    def __init__(self, manager: GatewayServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._gateway_server = manager

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        server = self._gateway_server
        if len(server.connections) > server.max_connections:
            server.refused += 1
            if server.refused % REFUSAL_LOG_EVERY == 1:
                log.warning(
                    "connection refused: over max_connections=%d (%d refused so far)",
                    server.max_connections,
                    server.refused,
                )
            assert isinstance(transport, asyncio.Transport)
            transport.write(REFUSED)
            transport.close()

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


class GatewayServer(web.Server):
    """aiohttp's low-level server, making ``GatewayProtocol`` connections."""

    def __init__(self, handler: Any, *, max_connections: int, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.max_connections = max_connections
        self.refused = 0

    def __call__(self) -> RequestHandler:
        return GatewayProtocol(self, loop=self._loop, **self._kwargs)


class GatewayRunner(web.AppRunner):
    """``web.AppRunner`` whose server is a ``GatewayServer`` and whose access
    log is the redacting ``AccessLogger`` unless told otherwise."""

    def __init__(self, app: web.Application, *, max_connections: int, **kwargs: Any) -> None:
        kwargs.setdefault("access_log_class", AccessLogger)  # aiohttp's logs secrets
        super().__init__(app, **kwargs)
        self.max_connections = max_connections

    async def _make_server(self) -> web.Server:
        base = await super()._make_server()
        return GatewayServer(
            base.request_handler,
            request_factory=base.request_factory,
            handler_cancellation=base.handler_cancellation,
            loop=asyncio.get_running_loop(),
            max_connections=self.max_connections,
            **base._kwargs,
        )
