"""Log output: the usual text lines, or one JSON object per line.

``[log] format = "json"`` writes every record as a JSON object with
``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, plus every
``extra`` field the record carries: the access log's ``remote``, ``user``,
``method``, ``path``, ``status``, ``bytes``, ``duration_ms`` and ``action``
become keys that a log shipper can index without parsing the message.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from typing import Final

SECRET_NAMES: Final = frozenset({"secret", "key", "mansession_id", "password"})
"""Parameter and header names (lower case) whose values never reach a log:
the AJAM access log's query parameters and the AMI door's action headers."""
REDACTED: Final = "***"

UNSAFE: Final = re.compile(r"[^\x21-\x7e]|[\"'\\]")
"""Client text in a log line: no spaces, controls, quotes or backslashes, so
it can neither end a field nor forge one (``address=`` for fail2ban)."""


def escaped(text: str) -> str:
    """Client text as one unbreakable log token: unsafe characters as ``\\xNN``
    (``\\uNNNN``); printable letters of any script stay (a Cyrillic user name)."""
    if text.isascii():  # the usual case, and long request targets: one regex pass
        return UNSAFE.sub(lambda m: _code(m.group()), text)
    return "".join(c if _plain(c) else _code(c) for c in text)


def _plain(char: str) -> bool:
    return char.isprintable() and not char.isspace() and char not in "\"'\\"


def _code(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


TEXT_FORMAT: Final = "%(asctime)s %(name)s %(levelname)s %(message)s"
FORMATS: Final = ("text", "json")

_STANDARD: Final = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime"}
)
"""What every record has; anything else on a record came from ``extra``."""


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
        data: dict[str, object] = {
            "time": when.isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in data:
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


def formatter(name: str) -> logging.Formatter:
    """The formatter for ``[log] format`` (``text`` or ``json``)."""
    if name == "json":
        return JsonFormatter()
    return logging.Formatter(TEXT_FORMAT)


def use_format(name: str, root: logging.Logger | None = None) -> None:
    """Switch every handler of the root logger to the given format."""
    for handler in (root or logging.getLogger()).handlers:
        handler.setFormatter(formatter(name))
