"""Request parameters and the session cookie, decoded as Asterisk does.

aiohttp's ``request.query`` decodes to text and folds bytes; Asterisk decodes
``%XX`` byte-wise, keeps a malformed escape literally, and turns ``+`` into a
space, in names and values alike.  So the raw query (or form body) is decoded
here, and the bytes become text with surrogateescape so that nothing is lost.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote_to_bytes

from gateway.ami.codec import MAX_ACTION_LINE, MAX_ACTION_LINES
from gateway.ami.message import Field, decode
from gateway.errors import RequestTooLarge

_COOKIE: Final = re.compile(r'(?:^|[;,]\s*)mansession_id\s*=\s*"?([^";,\s]*)"?')
COOKIE_NAME: Final = "mansession_id"
MAX_FORM_FIELDS: Final = MAX_ACTION_LINES + 1
"""AMI keeps 128 lines of an action, plus the mansession_id never forwarded."""
MAX_FIELD_BYTES: Final = 3 * MAX_ACTION_LINE
"""An encoded ``name=value`` longer than this decodes to more than AMI's
1024-byte line even if every byte came as ``%XX``."""
_SEPARATORS: Final = re.compile(rb"&+")


def unquote(raw: bytes) -> bytes:
    """``+`` to space and ``%XX`` to its byte; a bad escape stays as it is.

    ``+`` becomes a space before the escapes are decoded, so ``%2B`` stays a
    ``+``; the standard library keeps a bad escape literally, as Asterisk does
    (a per-byte loop here was ~2 % of a poll's CPU: bench/README.md).
    """
    if b"%" not in raw:
        return raw.replace(b"+", b" ") if b"+" in raw else raw
    return unquote_to_bytes(raw.replace(b"+", b" "))


def parse_form(raw: bytes) -> list[Field]:
    """``a=1&b&c=x%3Dy`` to ordered pairs; repeats and case are kept.

    Runs before authentication, so its work is bounded by what AMI could
    take: past ``MAX_FORM_FIELDS`` fields, or at a field longer than
    ``MAX_FIELD_BYTES``, ``RequestTooLarge`` and nothing more is decoded.
    """
    if raw.count(b"&") < MAX_FORM_FIELDS:
        parts = raw.split(b"&")  # the usual case: a few fields
    else:  # a run of '&' is one separator: at most one more part than may count
        parts = _SEPARATORS.split(raw, MAX_FORM_FIELDS + 1)
    pairs: list[Field] = []
    for part in parts:
        if not part:
            continue
        if len(pairs) == MAX_FORM_FIELDS or len(part) > MAX_FIELD_BYTES:
            raise RequestTooLarge
        name, _, value = part.partition(b"=")
        pairs.append((decode(unquote(name)), decode(unquote(value))))
    return pairs


def query_parameter(raw_query: bytes, name: str) -> str | None:
    """The first ``name`` of a raw query, decoded as ``parse_form`` decodes it
    (names ASCII case-insensitively, as ``header``); None without one.  Only
    what it needs is decoded: a POST's query is read for its session id alone."""
    wanted = name.lower().encode()
    for part in raw_query.split(b"&"):
        key, _, value = part.partition(b"=")
        if unquote(key).lower() == wanted:
            return decode(unquote(value))
    return None


def split_target(raw_path: str) -> tuple[str, bytes]:
    """The raw request target to (path, raw query bytes)."""
    path, _, query = raw_path.partition("?")
    return path, query.encode("utf-8", "surrogateescape")


def cookie_session_id(cookie_header: str | None) -> str | None:
    """The ``mansession_id`` from a Cookie header, quoted or not."""
    if not cookie_header:
        return None
    match = _COOKIE.search(cookie_header)
    return match.group(1) if match and match.group(1) else None
