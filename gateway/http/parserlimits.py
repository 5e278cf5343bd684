"""The HTTP parser's limits, and its errors answered and logged without a
byte of the request.

* Limits (``server_limits``): header count, header size and request line
  length, as ``handler_args`` of the app, so tests see them too.
* Errors: aiohttp answers them itself, before any middleware, with the
  first 100 bytes of the offending line in both the body and the log: an
  AJAM login carries its secret in that line.  The server's logger drops
  the exception and keeps a one-line summary (``RedactParserErrors``), and
  the server (``gateway.http.server``) answers with our own page
  (``error_for``): 414 for a request line over the limit, 431 for a header,
  400 for anything else, never echoing input.
"""

from __future__ import annotations

import logging
from typing import Any, Final, Protocol

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong

from gateway.http.errors import error_page

SERVER_LOGGER: Final = "gateway.http.server"
"""The logger aiohttp's protocol writes to (the server's own)."""
REQUEST_LINE_ALLOWANCE: Final = 8192
"""Room for the method, path and version on top of ``max_query``."""

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
