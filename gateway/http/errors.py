"""The one place where HTTP-level errors become responses.

AMI-level errors (``Response: Error``) are rendered by the AJAM handler in
the client's output format; everything with a real HTTP status is answered
here, whatever the path.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
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


BROWSER_SCRIPT_MODES: Final = frozenset({"cors", "same-origin", "no-cors", "websocket"})
"""``Sec-Fetch-Mode`` of a request made by a page's script (fetch, XHR,
EventSource, WebSocket), as opposed to ``navigate`` or a client that sends
no such header."""


def from_browser_script(headers: Mapping[str, str]) -> bool:
    """Whether a page's script sent the request: a Basic challenge on its 401
    makes the browser hold the request and prompt for a password instead of
    failing it, so the page never learns that its session is gone."""
    return headers.get("Sec-Fetch-Mode", "").lower() in BROWSER_SCRIPT_MODES


def json_error_response(error: JsonHttpError, *, challenge: bool = True) -> web.Response:
    body: dict[str, str] = {"error": error.message}
    if error.field is not None:
        body["field"] = error.field
    headers = {"Server": SERVER_NAME, "Cache-Control": NO_CACHE}
    if challenge and isinstance(error, NotAuthenticated):
        headers["WWW-Authenticate"] = 'Basic realm="ajam-gateway", charset="UTF-8"'
    return web.json_response(body, status=error.status, headers=headers)


def http_error_response(error: HttpLevelError, *, challenge: bool = True) -> web.Response:
    """``challenge``: whether a 401 asks for Basic (not for a page's script)."""
    if isinstance(error, JsonHttpError):
        return json_error_response(error, challenge=challenge)
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


def error_response(error: Exception, *, challenge: bool = True) -> web.Response:
    """The page for one of ``TRANSLATED``."""
    if isinstance(error, HttpLevelError):
        return http_error_response(error, challenge=challenge)
    if isinstance(error, web.HTTPRequestEntityTooLarge):
        return error_page(413, "Request Entity Too Large", "The request body is too large")
    return error_page(404, "Not Found", "The requested URL was not found on this server.")
