from __future__ import annotations

import io
import json
import logging
import sys

from gateway.logs import TEXT_FORMAT, JsonFormatter, formatter, use_format


def record(**extra: object) -> logging.LogRecord:
    made = logging.LogRecord("aiohttp.access", logging.INFO, "x.py", 1, "%s did %s", ("a", 1), None)
    made.__dict__.update(extra)
    return made


def test_json_lines_carry_extra_fields_as_keys() -> None:
    line = JsonFormatter().format(record(user="admin", status=200, action="Ping"))
    data = json.loads(line)
    assert data["message"] == "a did 1"
    assert (data["level"], data["logger"]) == ("INFO", "aiohttp.access")
    assert (data["user"], data["status"], data["action"]) == ("admin", 200, "Ping")
    assert data["time"].endswith("+00:00")
    assert "args" not in data
    assert "\n" not in line


def test_json_keeps_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord("g", logging.ERROR, "x.py", 1, "failed", (), sys.exc_info())
    data = json.loads(JsonFormatter().format(failed))
    assert "ValueError: boom" in data["exception"]


def test_use_format_switches_every_root_handler() -> None:
    root = logging.Logger("test-root")
    stream = io.StringIO()
    root.addHandler(logging.StreamHandler(stream))
    use_format("json", root)
    root.warning("hello %s", "there", extra={"user": "u"})
    assert json.loads(stream.getvalue())["user"] == "u"
    use_format("text", root)
    assert root.handlers[0].formatter is not None
    assert root.handlers[0].formatter._fmt == TEXT_FORMAT
    assert isinstance(formatter("json"), JsonFormatter)
