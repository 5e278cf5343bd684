"""Actions as Asterisk reads them from an AMI client: bytes in, messages out.

The server side of the codec (``gateway.ami.codec`` reads what Asterisk
writes; this reads what a client writes to Asterisk).  The simulated
Asterisk and the gateway's AMI front door both read their clients with it;
nothing here does I/O, so it is fed whole, byte by byte or in any chunking.

Reading rules (main/manager.c ``get_input`` and ``do_message``, checked
against the ``ami/`` captures):

* A line ends at LF; a CR right before the LF belongs to the terminator.
  A message is its lines up to an empty line.  An empty line with no line
  before it is a message of no lines (Asterisk answers it ``Missing action
  in request``): every extra blank line is one such message.
* A line fits when its bytes and its terminator are at most 1024 (Asterisk's
  input buffer).  A longer line makes its whole message
  ``LINE_TOO_LONG``; the rest of the line is dropped unread, and the message
  still ends at its own empty line (never earlier: Asterisk can cut such a
  line so that its CR and LF form an empty line and run the message's tail
  as a new action; the gateway never splits a message, deviation D6).
* At most 128 lines (``AST_MAX_MANHEADERS``); a message with more is
  ``TOO_MANY_LINES``, and only its first 128 lines are kept.  Asterisk then
  runs nothing and names that problem first.
* A bare CR or a NUL inside a line makes the message ``INVALID_CHARACTER``.
  Asterisk keeps a bare CR in the value and cuts a line at a NUL (a leading
  NUL ends the message); the gateway refuses such a message whole (D5), the
  simulator runs it as read.
* A line is split at its first ``:``; the value is what follows with its
  leading bytes below 33 skipped (``ast_skip_blanks``).  A line without a
  colon is an ``(OPAQUE, line)`` pair, as in the codec.
* ``Message.raw`` holds the message's lines as received (closing blank line
  excluded) when every line ended with CRLF: UserEvent copies them.

Memory never grows past one message of 128 lines of 1024 bytes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from gateway.ami.codec import MAX_ACTION_LINE, MAX_ACTION_LINES, field_of, line_chunks
from gateway.ami.message import Field, Message, header

FORBIDDEN: Final = (b"\r", b"\0")
"""Bytes that may not stand inside a line (LF always ends one)."""


class Problem(enum.Enum):
    """Why a message is answered with an error instead of being run; the
    value is Asterisk's own text (the gateway's for ``INVALID_CHARACTER``).
    Declared in the order Asterisk reports them when a message has several."""

    TOO_MANY_LINES = "Too many lines in message or allocation failure"
    LINE_TOO_LONG = "Failed to parse message: line too long"
    INVALID_CHARACTER = "Invalid character in request"


_RANK: Final = {problem: rank for rank, problem in enumerate(Problem)}


@dataclass(frozen=True, slots=True)
class ClientMessage:
    """One message from a client, and what is wrong with it, if anything."""

    message: Message
    problem: Problem | None = None

    @property
    def action_id(self) -> str | None:
        """The first ActionID, as an answer may repeat it: None when empty,
        or when it is itself the bad input."""
        value = header(self.message.fields, "ActionID")
        if not value or any(bad.decode() in value for bad in FORBIDDEN):
            return None
        return value


class _State(enum.Enum):
    LINE = "reading a line"
    SKIPPING = "dropping the rest of a line over 1024 bytes"


class ActionReader:
    """Splits a client's byte stream into messages, by Asterisk's rules."""

    def __init__(self) -> None:
        self._state = _State.LINE
        self._partial = bytearray()  # the current line, not yet ended by LF
        self._fields: list[Field] = []
        self._raw = bytearray()
        self._crlf = True  # every line of the current message ended with CRLF
        self._lines = 0
        self._problem: Problem | None = None

    def feed(self, data: bytes) -> list[ClientMessage]:
        """Every message ``data`` completes, in order; partial input is kept."""
        out: list[ClientMessage] = []
        for chunk, ends_line in line_chunks(data):
            self._take(chunk, ends_line, out)
        return out

    def _take(self, chunk: bytes, ends_line: bool, out: list[ClientMessage]) -> None:
        if self._state is _State.SKIPPING:
            if ends_line:
                self._state = _State.LINE
                self._count_line(b"", crlf=True)
            return
        if len(self._partial) + len(chunk) > MAX_ACTION_LINE:
            self._partial.clear()
            self._flag(Problem.LINE_TOO_LONG)
            if ends_line:
                self._count_line(b"", crlf=True)
            else:
                self._state = _State.SKIPPING
            return
        if not ends_line:
            self._partial += chunk
            return
        if self._partial:
            self._partial += chunk
            chunk = bytes(self._partial)
            self._partial.clear()
        self._on_line(chunk, out)

    def _on_line(self, line: bytes, out: list[ClientMessage]) -> None:
        crlf = line.endswith(b"\r\n")
        content = line[:-2] if crlf else line[:-1]
        if not content:
            out.append(self._finish(crlf))
            return
        if any(bad in content for bad in FORBIDDEN):
            self._flag(Problem.INVALID_CHARACTER)
        self._count_line(line, crlf=crlf, pair=field_of(content, blanks=_BLANKS))

    def _count_line(self, line: bytes, *, crlf: bool, pair: Field | None = None) -> None:
        """One more line of the message (an over-long one has no pair)."""
        self._lines += 1
        if self._lines > MAX_ACTION_LINES:
            self._flag(Problem.TOO_MANY_LINES)
            return
        self._raw += line
        self._crlf = self._crlf and crlf
        if pair is not None:
            self._fields.append(pair)

    def _flag(self, problem: Problem) -> None:
        if self._problem is None or _RANK[problem] < _RANK[self._problem]:
            self._problem = problem

    def _finish(self, crlf: bool) -> ClientMessage:
        raw = bytes(self._raw) if self._crlf and crlf and self._problem is None else b""
        done = ClientMessage(Message(tuple(self._fields), raw), self._problem)
        self._fields = []
        self._raw.clear()
        self._crlf = True
        self._lines = 0
        self._problem = None
        return done


_BLANKS: Final = "".join(chr(c) for c in range(1, 33))
"""What ``ast_skip_blanks`` skips before a value (NUL never gets this far)."""
