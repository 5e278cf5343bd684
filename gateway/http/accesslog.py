"""An access log that never writes a secret.

aiohttp's default access log prints the whole request line, and an AJAM
login carries ``secret=`` (or an MD5 ``key=``) in its query.  This logger
prints the path and the query with the values of such parameters replaced,
plus the user and the action that the AJAM handler noted on the request.

One line per request::

    127.0.0.1 admin "GET /asterisk/rawman?action=ping" 200 61 0.8ms Ping

(address, user or ``-``, request, status, body bytes, duration, action or
``-``).  The same values go on the log record as ``extra`` fields, which the
JSON log format writes as keys (``gateway/logs.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from gateway.http.caller import client_of
from gateway.http.params import unquote
from gateway.logs import REDACTED, SECRET_NAMES, escaped

SECRET_PARAMS: Final = SECRET_NAMES
"""Names whose values never reach a log, matched as Asterisk decodes names
(``s%65cret`` and ``SECRET`` are ``secret`` too)."""
MAX_TOKEN: Final = 64
"""A user or action name is short; a longer one is cut, not logged whole."""


@dataclass(frozen=True, slots=True)
class AccessNote:
    """What the AJAM handler learnt about a request, for its log line."""

    user: str = ""
    action: str = ""


ACCESS: Final = web.RequestKey("ajam_access", AccessNote)


def note_request(request: web.Request, user: str, action: str) -> None:
    request[ACCESS] = AccessNote(user, action)


def redact(target: str) -> str:
    path, sep, query = target.partition("?")
    if not sep:
        return target
    parts = []
    for part in query.split("&"):
        name, eq, _ = part.partition("=")
        decoded = unquote(name.encode("utf-8", "surrogateescape")).strip().lower()
        secret = decoded.decode("latin-1") in SECRET_PARAMS
        parts.append(f"{name}{eq}{REDACTED}" if secret and eq else part)
    return f"{path}?{'&'.join(parts)}"


def loggable(target: str) -> str:
    """A redacted request target, safe inside the line's quotes."""
    return escaped(redact(target))


def token(text: str) -> str:
    """Client text as one safe log token; ``-`` when empty."""
    if not text:
        return "-"
    return escaped(text[:MAX_TOKEN])


class AccessLogger(AbstractAccessLogger):
    @property
    def enabled(self) -> bool:
        """aiohttp skips ``log()`` (and its timing) on a connection made while
        INFO is off, as it does for its own access logger."""
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        note = request.get(ACCESS) or AccessNote()
        client = client_of(request)
        target = loggable(request.raw_path)
        user, action = token(note.user), token(note.action)
        millis = time * 1000
        self.logger.info(
            '%s %s "%s %s" %s %s %.1fms %s',
            client,
            user,
            request.method,
            target,
            response.status,
            response.body_length,
            millis,
            action,
            extra={
                "remote": client,
                "user": note.user,
                "method": request.method,
                "path": target,
                "status": response.status,
                "bytes": response.body_length,
                "duration_ms": round(millis, 3),
                "action": note.action,
            },
        )
