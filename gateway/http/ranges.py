"""Which bytes of a file to answer: ``Range`` and ``If-Range`` (RFC 9110, 14).

Sans-I/O: a request's two headers and the file's size, ETag and time in, a
``Slice`` out.  One range is answered 206; a range that starts past the end
(or a suffix of zero bytes) is 416; anything else is the whole file, 200:

* no ``Range``, or one in another unit than ``bytes``;
* a ``Range`` this parser cannot read (RFC 9110 lets a server ignore it);
* several ranges (``bytes=0-99,200-299``): allowed to be ignored, and the
  players and clients that seek ask for one;
* an ``If-Range`` that does not name this file as it is now (a strong ETag
  equal to ours, or exactly our ``Last-Modified``): the client's copy is
  stale, so it gets all of the new one.

aiohttp's ``FileResponse`` was not used: it answers several ranges, or a
unit it does not know, with 416 (RFC 9110 says ignore them); it compares
``If-Range`` as a date only, so a stale ETag still gets a part; it reopens
the file by path after the checks; and it may serve a ``.gz`` or ``.br``
sibling instead of the file asked for.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from typing import Final

_SPEC: Final = re.compile(r"\s*(\d{0,18})\s*-\s*(\d{0,18})\s*")
"""One byte-range-spec; 18 digits are an exabyte, so int() stays cheap."""


class Outcome(enum.Enum):
    WHOLE = 200
    PART = 206
    UNSATISFIABLE = 416


@dataclass(frozen=True, slots=True)
class Slice:
    """What to send: ``length`` bytes from ``start`` (``outcome`` says which status)."""

    outcome: Outcome
    start: int
    length: int

    def content_range(self, size: int) -> str | None:
        """The ``Content-Range`` header: the part sent, or the size for a 416."""
        if self.outcome is Outcome.PART:
            return f"bytes {self.start}-{self.start + self.length - 1}/{size}"
        if self.outcome is Outcome.UNSATISFIABLE:
            return f"bytes */{size}"
        return None


def strong_etag(size: int, mtime_ns: int) -> str:
    """A validator that changes whenever the file grows or is rewritten."""
    return f'"{mtime_ns:x}-{size:x}"'


def http_date(mtime: float) -> str:
    """``Last-Modified``, in whole seconds as HTTP dates are."""
    return formatdate(int(mtime), usegmt=True)


def if_range_holds(value: str | None, etag: str, mtime: float) -> bool:
    """Whether ``If-Range`` (absent: yes) names the file as it is now."""
    if value is None:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        return value == etag  # a weak ETag never matches (RFC 9110, 13.1.5)
    try:
        return int(parsedate_to_datetime(value).timestamp()) == int(mtime)
    except (TypeError, ValueError, OverflowError):
        return False


def choose(range_header: str | None, size: int) -> Slice:
    """The part of a ``size``-byte file that ``Range`` asks for."""
    whole = Slice(Outcome.WHOLE, 0, size)
    if range_header is None:
        return whole
    unit, equals, specs = range_header.partition("=")
    if not equals or unit.strip().lower() != "bytes" or "," in specs:
        return whole
    match = _SPEC.fullmatch(specs)
    if match is None or match.group(1) == match.group(2) == "":
        return whole
    first, last = match.groups()
    if first == "":  # bytes=-N: the last N bytes
        wanted = int(last)
        if wanted == 0 or size == 0:
            return Slice(Outcome.UNSATISFIABLE, 0, 0)
        start = max(0, size - wanted)
        return Slice(Outcome.PART, start, size - start)
    start = int(first)
    if last != "" and int(last) < start:
        return whole  # an invalid spec: ignored
    if start >= size:
        return Slice(Outcome.UNSATISFIABLE, 0, 0)
    end = size - 1 if last == "" else min(int(last), size - 1)
    return Slice(Outcome.PART, start, end - start + 1)
