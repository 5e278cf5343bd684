"""One access-log line per action on the AMI door, never with a secret.

The line has the AJAM access log's shape (``gateway.http.accesslog``)::

    127.0.0.1 admin "AMI Action=Login&Username=admin&Secret=***" Success 91 1.1ms Login

(address, user or ``-``, the action's headers, the answer's ``Response``,
bytes written, duration, action or ``-``).  The values of ``Secret``,
``Key`` and every other name the HTTP access log redacts are ``***``; all
client text is escaped and cut, so a client cannot forge a line.  The JSON
log format carries the same values as keys (``method`` is ``AMI``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

from gateway.ami.message import OPAQUE, Field
from gateway.logs import REDACTED, SECRET_NAMES, escaped

log = logging.getLogger("gateway.amiserver.access")

MAX_LOGGED: Final = 2048
"""Characters of an action's headers in one line: an action may hold 128 KiB."""
MAX_TOKEN: Final = 64
"""A user or action name is short; a longer one is cut."""


def action_text(fields: Sequence[Field]) -> str:
    """``Name=value&...`` with the secrets' values redacted, cut to ``MAX_LOGGED``."""
    parts = []
    for name, value in fields:
        if name == OPAQUE:
            parts.append(value)
        elif name.strip().lower() in SECRET_NAMES:
            parts.append(f"{name}={REDACTED}")
        else:
            parts.append(f"{name}={value}")
    text = "&".join(parts)
    return text if len(text) <= MAX_LOGGED else text[:MAX_LOGGED] + "..."


def token(text: str) -> str:
    return escaped(text[:MAX_TOKEN]) if text else "-"


def log_action(
    address: str,
    user: str,
    fields: Sequence[Field],
    status: str,
    size: int,
    seconds: float,
    action: str,
) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    path = escaped(action_text(fields))
    millis = seconds * 1000
    log.info(
        '%s %s "AMI %s" %s %d %.1fms %s',
        address,
        token(user),
        path,
        token(status),
        size,
        millis,
        token(action),
        extra={
            "remote": address,
            "user": user,
            "method": "AMI",
            "path": path,
            "status": status,
            "bytes": size,
            "duration_ms": round(millis, 3),
            "action": action,
        },
    )
