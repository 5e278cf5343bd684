"""The sans-I/O AMI codec: bytes from Asterisk in, messages out; actions in, bytes out.

``Parser.feed`` takes whatever bytes the socket gave and returns what they
completed: the ``Banner`` (the first line after connect, with no blank line
after it), each ``Message``, and a ``Discarded`` for every message the parser
refused.  Nothing here does I/O, so the same code serves the client, the
simulator and the tests, fed whole, byte by byte or in any chunking.

Reading rules (the captures in ``fixtures/asterisk-22/ami`` are the truth):

* Lines end with CRLF or a bare LF.  A message is its lines up to an empty
  line; empty lines between messages are skipped.
* A line is split at its first ``:``; the value is the rest with the leading
  spaces skipped, as Asterisk's own renderers do (``Output:   Action`` shows
  as ``Action`` in mxml).  The exact bytes stay in ``Message.raw`` when every
  line of the message ended with CRLF, so that rawman can repeat them.
* A line without a colon is an ``(OPAQUE, line)`` pair.
* ``Response: Follows`` (Command on Asterisk <= 13): ``Privilege`` and
  ``ActionID`` header lines, then raw CLI text (blank lines and colons
  included) up to the line ending with ``--END COMMAND--``, then the blank
  line.  Body lines become ``(OPAQUE, line)`` pairs; the marker is dropped and
  any text before it on its line kept.
* A message whose FIRST line is ``Action:`` is an injection reflected by
  another AMI client (see the fixture ``crlf_userevent_from_ajam``): it is
  logged and discarded, never passed on.
* A line over ``max_line`` or a message over ``max_message``: the whole
  message is discarded and the parser resyncs at the next blank line.  Memory
  never grows past the two limits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from gateway.ami.message import OPAQUE, Field, Message, decode, encode
from gateway.errors import InvalidCharacter, RequestTooLarge

logger = logging.getLogger(__name__)

MAX_LINE: Final = 64 * 1024
"""Longest line accepted from Asterisk, terminator excluded.  Asterisk refuses
input lines over 1024 bytes but writes longer ones itself: a UserEvent built
from an AJAM POST carried a 5000-byte header (fixture ``*_huge_query``)."""

MAX_MESSAGE: Final = 1024 * 1024
"""Largest message accepted from Asterisk: ``manager show commands`` or a big
list item stays far below it, while a runaway peer cannot exhaust memory."""

MAX_ACTION_LINES: Final = 128
"""Asterisk keeps at most 128 header lines of an action (AST_MAX_MANHEADERS)."""

MAX_ACTION_LINE: Final = 1024
"""Asterisk's input buffer holds 1024 bytes per line, CRLF included; a longer
line gets ``Failed to parse message: line too long`` (fixture overlong_line)."""

HEAD_CHARS: Final = 80
"""How much of a discarded message's first line is kept for the logs."""

END_COMMAND: Final = b"--END COMMAND--"
"""Closes the body of an old-style ``Response: Follows``."""

_FOLLOWS_HEADERS: Final = frozenset({"privilege", "actionid"})
"""The only lines Asterisk <= 13 writes between ``Response: Follows`` and the output."""

_FORBIDDEN: Final = ("\r", "\n", "\0")
"""Characters that would split one action line into several on the wire."""
_FORBIDDEN_RE: Final = re.compile("[" + "".join(_FORBIDDEN) + "]")


@dataclass(frozen=True, slots=True)
class Banner:
    """The line Asterisk sends on connect, e.g. ``Asterisk Call Manager/11.0.0``."""

    line: str

    @property
    def version(self) -> str:
        """The AMI version after the last ``/`` (``11.0.0``), or empty."""
        _, slash, version = self.line.rpartition("/")
        return version if slash else ""


@dataclass(frozen=True, slots=True)
class Discarded:
    """A message the parser refused: why, how many bytes, and its first line."""

    reason: str
    size: int
    head: str


Item = Banner | Message | Discarded


def field_of(content: bytes, *, blanks: str = " ") -> Field:
    """One line's (name, value): split at the first ``:``, the value's leading
    ``blanks`` skipped; a line without a colon is ``(OPAQUE, line)``.  What
    Asterisk writes keeps its other leading bytes; what a client writes to
    Asterisk loses every byte below 33 (``gateway.ami.actionreader``)."""
    name, colon, value = decode(content).partition(":")
    if not colon:
        return (OPAQUE, name)
    return (name, value.lstrip(blanks))


def line_chunks(data: bytes) -> Iterator[tuple[bytes, bool]]:
    """``data`` cut after each LF: each piece, and whether an LF ends it (only
    the last piece may lack one: the start of a line still to come)."""
    pos = 0
    while pos < len(data):
        newline = data.find(b"\n", pos)
        end = len(data) if newline < 0 else newline + 1
        yield data[pos:end], newline >= 0
        pos = end


def _head(data: bytes | bytearray) -> str:
    """The first line of ``data``, shortened for a log line."""
    first = bytes(data[: HEAD_CHARS * 4]).split(b"\n", 1)[0]
    return decode(first).rstrip("\r")[:HEAD_CHARS]


class Parser:
    """Turns Asterisk's byte stream into banners, messages and discards."""

    def __init__(
        self,
        *,
        max_line: int = MAX_LINE,
        max_message: int = MAX_MESSAGE,
        expect_banner: bool = True,
        accept_actions: bool = False,
    ) -> None:
        """``accept_actions`` is for the server side (the simulator), which
        reads actions; on the client side a message starting ``Action:`` is an
        injection and is discarded."""
        self._max_line = max_line
        self._max_message = max_message
        self._expect_banner = expect_banner
        self._accept_actions = accept_actions
        self._partial = bytearray()  # the current line, not yet ended by LF
        self._raw = bytearray()  # the current message's lines, as received
        self._fields: list[Field] = []
        self._crlf = True  # every line of the current message ended with CRLF
        self._follows_headers = False  # after `Response: Follows`, before its body
        self._follows_body = False  # inside the raw CLI text, before END_COMMAND
        self._skipping = False  # dropping the rest of an over-long line
        self._drop_reason: str | None = None  # set while a message is discarded
        self._drop_size = 0
        self._drop_head = ""

    def feed(self, data: bytes) -> list[Item]:
        """Everything ``data`` completes, in order; partial input is kept."""
        out: list[Item] = []
        for chunk, ends_line in line_chunks(data):
            self._take(chunk, ends_line, out)
        return out

    def _take(self, chunk: bytes, ends_line: bool, out: list[Item]) -> None:
        if self._skipping:
            self._drop_size += len(chunk)
            if ends_line:
                self._skipping = False
                self._after_long_line(out)
            return
        if ends_line and not self._partial:
            self._on_line(chunk, out)  # the common case: a whole line, no copy
            return
        self._partial += chunk
        if not ends_line:
            if len(self._partial) > self._max_line + 1:  # +1: a CR may still end it
                self._start_drop("line too long", bytes(self._partial))
                self._partial.clear()
                self._skipping = True
            return
        line = bytes(self._partial)
        self._partial.clear()
        self._on_line(line, out)

    def _on_line(self, line: bytes, out: list[Item]) -> None:
        crlf = line.endswith(b"\r\n")
        content = line[:-2] if crlf else line[:-1]
        if self._drop_reason is not None:
            self._drop_size += len(line)
            if not content:
                out.append(self._end_drop())
        elif len(content) > self._max_line:
            self._start_drop("line too long", line)
            self._after_long_line(out)
        elif self._expect_banner:
            self._expect_banner = False
            out.append(Banner(decode(content)))
        elif self._follows_headers or self._follows_body:
            self._add(line, crlf, self._follows_pair(content))
        elif not content:
            if self._fields:
                out.append(self._finish(crlf))
        else:
            pair = field_of(content)
            if not self._fields:
                self._follows_headers = (
                    pair[0].lower() == "response" and pair[1].lower() == "follows"
                )
            self._add(line, crlf, pair)

    def _follows_pair(self, content: bytes) -> Field | None:
        """Inside ``Response: Follows`` a blank line is output, not the end."""
        if self._follows_headers:
            pair = field_of(content)
            if content and pair[0].lower() in _FOLLOWS_HEADERS:
                return pair
            self._follows_headers = False
            self._follows_body = True
        return self._body_pair(content)

    def _body_pair(self, content: bytes) -> Field | None:
        if not content.endswith(END_COMMAND):
            return (OPAQUE, decode(content))
        self._follows_body = False
        text = content[: -len(END_COMMAND)]
        return (OPAQUE, decode(text)) if text else None

    def _add(self, line: bytes, crlf: bool, pair: Field | None) -> None:
        if len(self._raw) + len(line) > self._max_message:
            self._start_drop("message too long", line)
            return
        self._raw += line
        self._crlf = self._crlf and crlf
        if pair is not None:
            self._fields.append(pair)

    def _finish(self, crlf: bool) -> Item:
        fields = tuple(self._fields)
        if fields[0][0].lower() == "action" and not self._accept_actions:
            dropped = Discarded("action from Asterisk", len(self._raw), _head(self._raw))
            self._reset()
            logger.warning("AMI: discarded a message that starts with %r", dropped.head)
            return dropped
        raw = bytes(self._raw) if self._crlf and crlf else b""
        self._reset()
        return Message(fields, raw)

    def _reset(self) -> None:
        self._raw.clear()
        self._fields.clear()
        self._crlf = True
        self._follows_headers = False
        self._follows_body = False

    def _start_drop(self, reason: str, line: bytes) -> None:
        if self._drop_reason is None:
            self._drop_reason = reason
            self._drop_size = len(self._raw)
            self._drop_head = _head(self._raw or line)
            self._reset()
        self._drop_size += len(line)

    def _after_long_line(self, out: list[Item]) -> None:
        """The banner is a single line: its discard ends with it."""
        if self._expect_banner:
            self._expect_banner = False
            out.append(self._end_drop())

    def _end_drop(self) -> Discarded:
        dropped = Discarded(self._drop_reason or "", self._drop_size, self._drop_head)
        self._drop_reason = None
        logger.warning(
            "AMI: discarded %d bytes (%s) starting %r", dropped.size, dropped.reason, dropped.head
        )
        return dropped


def _check_chars(fields: Sequence[Field]) -> None:
    # One regex scan per string: every action is checked twice (dispatch,
    # correlator), and a per-character generator showed up in the request
    # profile (bench/README.md).
    forbidden = _FORBIDDEN_RE.search
    for name, value in fields:
        if not name or ":" in name or forbidden(name) or forbidden(value):
            raise InvalidCharacter
    if len(fields) > MAX_ACTION_LINES:
        raise RequestTooLarge


def _encode_line(name: str, value: str) -> bytes:
    try:
        line = encode(f"{name}: {value}\r\n")
    except UnicodeEncodeError:  # a lone surrogate that decode() never makes
        raise InvalidCharacter from None
    if len(line) > MAX_ACTION_LINE:
        raise RequestTooLarge
    return line


def _encode_lines(fields: Sequence[Field]) -> list[bytes]:
    _check_chars(fields)
    return [_encode_line(name, value) for name, value in fields]


def validate_action(fields: Sequence[Field]) -> None:
    """Raise what ``encode_action`` would raise, for refusing before any work."""
    _check_chars(fields)
    for name, value in fields:
        if name.isascii() and value.isascii():  # one byte a character: no need to encode
            if len(name) + len(value) + 4 > MAX_ACTION_LINE:
                raise RequestTooLarge
        else:
            _encode_line(name, value)


def encode_action(fields: Sequence[Field]) -> bytes:
    """``Name: Value`` lines and the closing blank line, refusing anything
    that Asterisk would split, truncate or refuse (design rule 6)."""
    return b"".join(_encode_lines(fields)) + b"\r\n"


def encode_checked(fields: Sequence[Field]) -> bytes:
    """``encode_action`` for fields that ``validate_action`` already passed
    (``Correlator.prepare`` does): the same bytes without a third check."""
    return b"".join([encode(f"{name}: {value}\r\n") for name, value in fields]) + b"\r\n"
