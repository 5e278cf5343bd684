"""The one place where HTTP-level errors become responses.

AMI-level errors (``Response: Error``) are rendered by the AJAM handler in
the client's output format; everything with a real HTTP status is answered
here, whatever the path.
"""

from __future__ import annotations

import html
import logging
from typing import Final

from aiohttp import web

from gateway.errors import HttpLevelError, JsonHttpError, NotAuthenticated
from gateway.http.respond import NO_CACHE, SERVER_NAME

log = logging.getLogger("gateway.http")


def error_page(status: int, title: str, text: str) -> web.Response:
    """A small HTML error page, as Asterisk's http.c answers: no cookie, not
    cacheable, signed with the server's name (ajam/*_trailing_slash_and_case)."""
    body = (
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\r\n'
        f"<html><head>\r\n<title>{status} {html.escape(title)}</title>\r\n"
        f"</head><body>\r\n<h1>{html.escape(title)}</h1>\r\n"
        f"<p>{html.escape(text)}</p>\r\n<hr />\r\n"
        f"<address>{SERVER_NAME}</address>\r\n</body></html>\r\n"
    )
    return web.Response(
        status=status,
        text=body,
        content_type="text/html",
        charset="utf-8",
        headers={"Server": SERVER_NAME, "Cache-Control": NO_CACHE},
    )


def json_error_response(error: JsonHttpError) -> web.Response:
    body: dict[str, str] = {"error": error.message}
    if error.field is not None:
        body["field"] = error.field
    headers = {"Server": SERVER_NAME, "Cache-Control": NO_CACHE}
    if isinstance(error, NotAuthenticated):
        headers["WWW-Authenticate"] = 'Basic realm="ajam-gateway", charset="UTF-8"'
    return web.json_response(body, status=error.status, headers=headers)


def http_error_response(error: HttpLevelError) -> web.Response:
    if isinstance(error, JsonHttpError):
        return json_error_response(error)
    if error.retry_after is not None:  # 429 and 503: a client should try again
        body = f"Response: Error\r\nMessage: {error.message}\r\n\r\n"
        return web.Response(
            status=error.status,
            text=body,
            content_type="text/plain",
            charset="utf-8",
            headers={
                "Retry-After": str(error.retry_after or 1),
                "Server": SERVER_NAME,
                "Cache-Control": NO_CACHE,
            },
        )
    return error_page(error.status, error.message, error.message)


TRANSLATED: Final = (HttpLevelError, web.HTTPRequestEntityTooLarge, web.HTTPNotFound)
"""What ``error_response`` turns into a page; anything else propagates."""


def error_response(error: Exception) -> web.Response:
    """The page for one of ``TRANSLATED``."""
    if isinstance(error, HttpLevelError):
        return http_error_response(error)
    if isinstance(error, web.HTTPRequestEntityTooLarge):
        return error_page(413, "Request Entity Too Large", "The request body is too large")
    return error_page(404, "Not Found", "The requested URL was not found on this server.")
