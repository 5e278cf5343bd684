"""An access log that never writes a secret.

aiohttp's default access log prints the whole request line, and an AJAM
login carries ``secret=`` (or an MD5 ``key=``) in its query.  This logger
prints the path and the query with the values of such parameters replaced.
"""

from __future__ import annotations

import re
from typing import Final

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from gateway.http.client import client_of

SECRET_PARAMS: Final = re.compile(r"(?i)(^|[?&])((?:secret|key|mansession_id|password)=)[^&]*")


def redact(target: str) -> str:
    return SECRET_PARAMS.sub(r"\1\2***", target)


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
