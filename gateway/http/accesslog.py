"""An access log that never writes a secret.

aiohttp's default access log prints the whole request line, and an AJAM
login carries ``secret=`` (or an MD5 ``key=``) in its query.  This logger
prints the path and the query with the values of such parameters replaced.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from gateway.http.client import client_of
from gateway.http.params import unquote

SECRET_PARAMS: Final = frozenset({"secret", "key", "mansession_id", "password"})
"""Names whose values never reach a log, matched as Asterisk decodes names
(``s%65cret`` and ``SECRET`` are ``secret`` too)."""


def redact(target: str) -> str:
    path, sep, query = target.partition("?")
    if not sep:
        return target
    parts = []
    for part in query.split("&"):
        name, eq, _ = part.partition("=")
        decoded = unquote(name.encode("utf-8", "surrogateescape")).strip().lower()
        secret = decoded.decode("latin-1") in SECRET_PARAMS
        parts.append(f"{name}{eq}***" if secret and eq else part)
    return f"{path}?{'&'.join(parts)}"


class AccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %s %.1fms',
            client_of(request),
            request.method,
            redact(request.raw_path),
            response.status,
            response.body_length,
            time * 1000,
        )
