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
from typing import Final

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
