"""POSIX extended regular expressions, matched in linear time.

Asterisk compiles event filters with glibc's ``regcomp(REG_EXTENDED |
REG_NOSUB)`` and asks only *whether* an event matches.  Python's ``re``
backtracks: ``(.*.*)*Q`` on a 1,000-byte event never finishes, and a filter
runs on every event of the instance.  Here a pattern is parsed with glibc's
ERE rules (the C locale Asterisk runs in: bytes, ASCII classes) and written
out for RE2 (``google-re2``), whose matching time is linear in the text.

What is the same as glibc, byte for byte: ``.`` and ``[^x]`` match any byte,
newline included; ``^``/``$`` anchor the whole text only; brackets take
``]`` first, ``-`` first or last, a backslash literally, ``[:class:]`` (C
locale), ``[.x.]`` and ``[=x=]`` of one byte; ``\\w \\W \\s \\S \\b \\B`` and
``\\``` ``\\'`` are GNU's; any other escaped byte is itself (``\\n`` is "n");
an unmatched ``)`` is literal; a repetition operator at the start of an
expression, after ``(``, ``|`` or an anchor, and a malformed interval are
errors, as glibc says; stacked repetitions (``a+?``) repeat the repetition
(no lazy quantifiers).

What RE2 cannot do, refused with ``PatternError`` (Asterisk would accept
them): back-references ``\\1``-``\\9``, the word-edge anchors ``\\<`` and
``\\>``, multi-byte collating elements, intervals above ``{1000}`` (glibc
allows 32767), and patterns whose compiled program exceeds ``MAX_MEM``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import re2

from gateway.ami.message import encode

MAX_MEM: Final = 1 << 20
"""RE2's memory budget per pattern (program and DFA cache): a session may add
dozens of filters; past it RE2 refuses to compile, it never backtracks."""
RE2_MAX_REPEAT: Final = 1000
"""RE2's largest counted repetition."""
DUP_MAX: Final = 0x7FFF
"""glibc's RE_DUP_MAX: a larger count is regcomp's own error."""

_SPECIAL_CLASSES: Final[dict[str, bytes]] = {
    "alpha": rb"A-Za-z",
    "digit": rb"0-9",
    "alnum": rb"0-9A-Za-z",
    "upper": rb"A-Z",
    "lower": rb"a-z",
    "space": rb"\x09-\x0d\x20",
    "blank": rb"\x09\x20",
    "punct": rb"\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e",
    "xdigit": rb"0-9A-Fa-f",
    "cntrl": rb"\x00-\x1f\x7f",
    "print": rb"\x20-\x7e",
    "graph": rb"\x21-\x7e",
}
"""The C locale's ctype classes as RE2 bracket ranges."""
_ESCAPES: Final[dict[int, bytes]] = {
    ord("w"): rb"[0-9A-Za-z_]",
    ord("W"): rb"[^0-9A-Za-z_]",
    ord("s"): rb"[\x09-\x0d\x20]",
    ord("S"): rb"[^\x09-\x0d\x20]",
}
_ANCHOR_ESCAPES: Final[dict[int, bytes]] = {
    ord("b"): rb"\b",
    ord("B"): rb"\B",
    ord("`"): rb"\A",
    ord("'"): rb"\z",
}
_REPEATS: Final = frozenset(b"*+?{")


class PatternError(ValueError):
    """A pattern refused: regcomp would refuse it, or RE2 cannot run it."""


def _byte(value: int) -> bytes:
    """One literal byte for RE2 (Latin-1 mode: every byte is a character)."""
    return b"\\x%02x" % value


@dataclass(slots=True)
class _Parser:
    """One pass over the pattern's bytes, writing RE2 syntax as it goes."""

    src: bytes
    pos: int = 0
    depth: int = 0

    def peek(self) -> int | None:
        return self.src[self.pos] if self.pos < len(self.src) else None

    def take(self) -> int:
        value = self.src[self.pos]
        self.pos += 1
        return value

    def regex(self) -> bytes:
        branches = [self.branch()]
        while self.peek() == ord("|"):
            self.pos += 1
            branches.append(self.branch())
        return b"|".join(branches)

    def branch(self) -> bytes:
        pieces: list[bytes] = []
        while True:
            char = self.peek()
            if char is None or char == ord("|") or (char == ord(")") and self.depth):
                return b"".join(pieces)
            if char in _REPEATS:
                raise PatternError("a repetition operator with nothing to repeat")
            atom, repeatable = self.atom()
            if repeatable:
                atom = self.repeats(atom)
            elif self.peek() in _REPEATS:
                raise PatternError("an anchor cannot be repeated")
            pieces.append(atom)

    def atom(self) -> tuple[bytes, bool]:
        char = self.take()
        if char == ord("("):
            self.depth += 1
            inner = self.regex()
            if self.peek() != ord(")"):
                raise PatternError("unmatched ( or \\(")
            self.pos += 1
            self.depth -= 1
            return b"(?:" + inner + b")", True
        if char == ord("."):
            return b".", True
        if char in (ord("^"), ord("$")):
            return bytes((char,)), False
        if char == ord("["):
            return self.bracket(), True
        if char == ord("\\"):
            return self.escape()
        return _byte(char), True

    def escape(self) -> tuple[bytes, bool]:
        char = self.peek()
        if char is None:
            raise PatternError("trailing backslash")
        self.pos += 1
        if ord("1") <= char <= ord("9"):
            raise PatternError("back-references cannot be matched in linear time")
        if char in (ord("<"), ord(">")):
            raise PatternError("\\< and \\> are not supported; use \\b")
        if char in _ANCHOR_ESCAPES:
            return _ANCHOR_ESCAPES[char], False
        return _ESCAPES.get(char, _byte(char)), True

    def repeats(self, atom: bytes) -> bytes:
        stacked = 0
        while (char := self.peek()) is not None and char in _REPEATS:
            self.pos += 1
            operator = self.interval() if char == ord("{") else bytes((char,))
            # POSIX has no lazy or possessive forms: a+? is (a+)?
            atom = (b"(?:" + atom + b")" if stacked else atom) + operator
            stacked += 1
        return atom

    def interval(self) -> bytes:
        low = self.number()
        high: int | None = low
        if self.peek() == ord(","):
            self.pos += 1
            high = self.number()
            low = 0 if low is None else low  # glibc reads {,n} as {0,n}
        if self.peek() != ord("}") or low is None:
            raise PatternError("invalid interval {...}")
        self.pos += 1
        if high is not None and high < low:
            raise PatternError("invalid interval: the maximum is below the minimum")
        if max(low, high or 0) > DUP_MAX:
            raise PatternError("interval count too large")
        if max(low, high or 0) > RE2_MAX_REPEAT:
            raise PatternError(f"interval counts above {RE2_MAX_REPEAT} are not supported")
        if high is None:
            return b"{%d,}" % low
        return b"{%d}" % low if high == low else b"{%d,%d}" % (low, high)

    def number(self) -> int | None:
        start = self.pos
        while (char := self.peek()) is not None and ord("0") <= char <= ord("9"):
            self.pos += 1
        return int(self.src[start : self.pos]) if self.pos > start else None

    def bracket(self) -> bytes:
        parts = [b"["]
        if self.peek() == ord("^"):
            self.pos += 1
            parts.append(b"^")
        first = True
        while True:
            char = self.peek()
            if char is None:
                raise PatternError("unmatched [")
            if char == ord("]") and not first:
                self.pos += 1
                return b"".join(parts) + b"]"
            first = False
            parts.append(self.bracket_item())

    def bracket_item(self) -> bytes:
        start = self.bracket_element()
        if isinstance(start, bytes):
            return start
        if self.peek() == ord("-") and self.src[self.pos + 1 : self.pos + 2] not in (b"]", b""):
            self.pos += 1
            end = self.bracket_element()
            if isinstance(end, bytes):
                raise PatternError("a range cannot end in a character class")
            if end < start:
                raise PatternError("invalid range end")
            return _byte(start) + b"-" + _byte(end)
        return _byte(start)

    def bracket_element(self) -> int | bytes:
        """One byte of a bracket expression, or a class's ranges (bytes)."""
        if self.src[self.pos : self.pos + 2] in (b"[:", b"[.", b"[="):
            kind = self.src[self.pos + 1]
            close = self.src.find(bytes((kind, ord("]"))), self.pos + 2)
            if close < 0:
                raise PatternError("unmatched [ in a bracket expression")
            name = self.src[self.pos + 2 : close]
            self.pos = close + 2
            if kind == ord(":"):
                ranges = _SPECIAL_CLASSES.get(name.decode("latin-1"))
                if ranges is None:
                    raise PatternError(f"unknown character class {name!r}")
                return ranges
            if len(name) != 1:
                raise PatternError("only one-byte collating elements are supported")
            return name[0]
        return self.take()


def translate(pattern: str) -> bytes:
    """The RE2 (Latin-1) pattern that matches what glibc's ERE matches."""
    src = encode(pattern)
    if b"\x00" in src:
        raise PatternError("NUL in a pattern")
    # At the top level a ")" is an ordinary byte, so the parse always ends at the end.
    return _Parser(src).regex()


@dataclass(frozen=True, slots=True)
class PosixRegex:
    """A compiled POSIX ERE; ``search`` is linear in the text's length."""

    pattern: str
    _regexp: re2._Regexp = field(repr=False, compare=False)

    def search(self, text: str) -> bool:
        return self._regexp.search(encode(text)) is not None


def compile_posix(pattern: str) -> PosixRegex:
    """Compile ``pattern`` as regcomp(REG_EXTENDED) would; raises PatternError."""
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.dot_nl = True
    options.never_capture = True
    options.max_mem = MAX_MEM
    options.log_errors = False
    try:
        regexp = re2.compile(translate(pattern), options)
    except re2.error as exc:
        raise PatternError(f"RE2 cannot compile it: {exc}") from exc
    return PosixRegex(pattern, regexp)
