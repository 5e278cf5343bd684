"""The parser's limits and its errors (gateway/http/parserlimits.py), without
a server: the redacting filter, the summary it logs, the ``handler_args``."""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import BadHttpMessage, LineTooLong

from gateway.config import LimitsConfig
from gateway.http.parserlimits import (
    REQUEST_LINE_ALLOWANCE,
    RedactParserErrors,
    describe,
    server_limits,
    server_logger,
)


def test_the_filter_keeps_other_records_whole() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom %s", ("a",), None)
    assert RedactParserErrors().filter(record)
    assert record.getMessage() == "boom a"
    try:
        raise ValueError("kept")
    except ValueError as error:
        exc_info = (type(error), error, error.__traceback__)
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), exc_info)
    assert RedactParserErrors().filter(record)
    assert record.exc_info is exc_info


def test_describe_never_quotes_the_request() -> None:
    assert describe(LineTooLong(b"GET /?secret=x", 10)) == "line over 10 bytes"
    assert describe(BadHttpMessage("secret=x")) == "BadHttpMessage"


def test_server_limits_keep_line_and_header_limits_apart() -> None:
    args = server_limits(LimitsConfig(max_query=100, max_header_size=100 + REQUEST_LINE_ALLOWANCE))
    assert args["max_line_size"] != args["max_field_size"]
    assert args["max_headers"] == LimitsConfig().max_headers
    server_logger()
    filters = [f for f in server_logger().filters if isinstance(f, RedactParserErrors)]
    assert len(filters) == 1  # installed once, however many apps
