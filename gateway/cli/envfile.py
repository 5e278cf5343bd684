"""systemd's ``EnvironmentFile=`` syntax, read as systemd reads it, so that
``check-config --env-file`` sees the secrets the service will get.

The rules (systemd.exec(5), "EnvironmentFile=", and systemd's own parser,
src/basic/env-file.c, whose states this follows one for one):

* An assignment is ``KEY=VALUE``.  Space around the key and before the value
  is dropped.  Lines that are empty, have no ``=``, or whose first
  non-blank character is ``#`` or ``;`` are ignored.  ``#`` later in a line
  is part of the value.  ``\\r`` ends a line as ``\\n`` does.
* Unquoted: trailing space is dropped, inner space kept; a backslash keeps
  the next character (``\\\\`` is one backslash, ``\\ `` a kept space);
  backslash-newline joins the next line.  Quotes after the first character
  are kept as they are.
* ``'...'``: everything verbatim, newlines too; no escapes.
* ``"..."``: newlines kept; a backslash before one of ``" \\ ` $`` gives that
  character, before a newline joins the lines, before anything else is kept
  with it.  After a closing quote the value may go on (``"a"'b'c`` is ``abc``).
* The key must be a shell name: letters, digits and ``_``, not starting with
  a digit.  Any other key is dropped with a warning in the journal: there
  is no ``export`` (``export KEY=1`` sets nothing).
* Keys and values must be valid UTF-8, or systemd rejects the whole file:
  the unit fails to start, or with ``EnvironmentFile=-`` (as the shipped
  units have it) starts without any of the file's variables.
* A later assignment to the same key wins; so does a later file.
* Parsing stops at a NUL byte.
* systemd 254 changed one thing: a comment ending with a backslash used to
  swallow the next line as well (Debian 12 has systemd 252); since 254 the
  next line is read.  This reader does what 254 does and warns about such a
  line, which means different things on different systems.

No file access here: ``parse_env_file`` takes the bytes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from gateway.errors import ConfigError

WHITESPACE: Final = " \t\n\r"
NEWLINE: Final = "\n\r"
COMMENT_START: Final = "#;"
DOUBLE_QUOTE_ESCAPES: Final = '"\\`$'
"""In double quotes a backslash escapes only these, as in a POSIX shell."""
NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class State(enum.Enum):
    PRE_KEY = enum.auto()
    KEY = enum.auto()
    PRE_VALUE = enum.auto()
    VALUE = enum.auto()
    VALUE_ESCAPE = enum.auto()
    SINGLE_QUOTED = enum.auto()
    DOUBLE_QUOTED = enum.auto()
    DOUBLE_QUOTED_ESCAPE = enum.auto()
    COMMENT = enum.auto()
    COMMENT_ESCAPE = enum.auto()


ASSIGNING: Final = frozenset(
    {
        State.PRE_VALUE,
        State.VALUE,
        State.VALUE_ESCAPE,
        State.SINGLE_QUOTED,
        State.DOUBLE_QUOTED,
        State.DOUBLE_QUOTED_ESCAPE,
    }
)
"""States in which the end of the file still completes an assignment."""


@dataclass(frozen=True, slots=True)
class EnvFile:
    variables: Mapping[str, str]
    warnings: tuple[str, ...]


@dataclass(slots=True)
class _Parser:
    name: str
    state: State = State.PRE_KEY
    line: int = 1
    key: list[str] = field(default_factory=list)
    value: list[str] = field(default_factory=list)
    key_start: int = 1
    key_space: int | None = None
    """Where the key's trailing blanks begin (they are dropped)."""
    value_space: int | None = None
    """Where an unquoted value's trailing blanks begin (they are dropped)."""
    quote_line: int = 0
    swallowed_line: int = 0
    """The line after a comment that ends with a backslash (see the module doc)."""
    variables: dict[str, str] = field(default_factory=dict)
    where_set: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def feed(self, c: str) -> None:
        handler = _HANDLERS[self.state]
        handler(self, c)
        if c == "\n":
            self.line += 1

    def end(self) -> None:
        if self.state in (State.SINGLE_QUOTED, State.DOUBLE_QUOTED, State.DOUBLE_QUOTED_ESCAPE):
            self.warn(self.quote_line, "a quote is never closed: the value runs to the end")
        if self.state in ASSIGNING:
            self.push(chomp=self.state is State.VALUE)

    def warn(self, line: int, text: str) -> None:
        self.warnings.append(f"{self.name}:{line}: {text}")

    def push(self, *, chomp: bool) -> None:
        key = "".join(self.key[: self.key_space])
        value = self.value[: self.value_space] if chomp else self.value
        text = "".join(value)
        self.state = State.PRE_KEY
        self.key, self.value = [], []
        for part in (key, text):
            try:
                part.encode("utf-8", "surrogateescape").decode("utf-8")
            except UnicodeDecodeError:
                raise ConfigError(
                    f"{self.name}:{self.key_start}: not valid UTF-8: systemd rejects the whole"
                    " file (the unit does not start, or with EnvironmentFile=- gets none of it)"
                ) from None
        if not NAME.fullmatch(key):
            hint = (
                " (there is no 'export' in an EnvironmentFile)" if key.startswith("export") else ""
            )
            self.warn(self.key_start, f"{key!r} is not a variable name: systemd ignores it{hint}")
            return
        if self.key_start == self.swallowed_line:
            self.warn(
                self.key_start,
                f"{key} follows a comment that ends with a backslash: systemd 254 and later"
                " set it, older systemd (Debian 12's 252) takes the line as part of the comment",
            )
        if key in self.variables:
            first = self.where_set[key]
            self.warn(self.key_start, f"{key} set again (first on line {first}): this one wins")
        self.variables[key] = text
        self.where_set[key] = self.key_start


def _pre_key(p: _Parser, c: str) -> None:
    if c in COMMENT_START:
        p.state = State.COMMENT
    elif c not in WHITESPACE:
        p.state, p.key, p.key_start, p.key_space = State.KEY, [c], p.line, None


def _key(p: _Parser, c: str) -> None:
    if c in NEWLINE:
        p.state, p.key = State.PRE_KEY, []  # no "=": not an assignment
    elif c == "=":
        p.state, p.value, p.value_space = State.PRE_VALUE, [], None
    else:
        p.key_space = _append(p.key, c, p.key_space)


def _pre_value(p: _Parser, c: str) -> None:
    if c in NEWLINE:
        p.push(chomp=False)
    elif c == "'":
        p.state, p.quote_line = State.SINGLE_QUOTED, p.line
    elif c == '"':
        p.state, p.quote_line = State.DOUBLE_QUOTED, p.line
    elif c == "\\":
        p.state = State.VALUE_ESCAPE
    elif c not in WHITESPACE:
        p.state = State.VALUE
        p.value.append(c)


def _value(p: _Parser, c: str) -> None:
    if c in NEWLINE:
        p.push(chomp=True)
    elif c == "\\":
        p.state, p.value_space = State.VALUE_ESCAPE, None
    else:
        p.value_space = _append(p.value, c, p.value_space)


def _append(text: list[str], c: str, space: int | None) -> int | None:
    """Add ``c`` to ``text``; where its trailing blanks now begin (None: it has none)."""
    if c not in WHITESPACE:
        space = None
    elif space is None:
        space = len(text)
    text.append(c)
    return space


def _value_escape(p: _Parser, c: str) -> None:
    p.state = State.VALUE
    if c not in NEWLINE:  # backslash-newline joins the lines
        p.value.append(c)


def _single_quoted(p: _Parser, c: str) -> None:
    if c == "'":
        p.state = State.PRE_VALUE
    else:
        p.value.append(c)


def _double_quoted(p: _Parser, c: str) -> None:
    if c == '"':
        p.state = State.PRE_VALUE
    elif c == "\\":
        p.state = State.DOUBLE_QUOTED_ESCAPE
    else:
        p.value.append(c)


def _double_quoted_escape(p: _Parser, c: str) -> None:
    p.state = State.DOUBLE_QUOTED
    if c in DOUBLE_QUOTE_ESCAPES:
        p.value.append(c)
    elif c != "\n":
        p.value.extend(("\\", c))


def _comment(p: _Parser, c: str) -> None:
    if c == "\\":
        p.state = State.COMMENT_ESCAPE
    elif c in NEWLINE:
        p.state = State.PRE_KEY


def _comment_escape(p: _Parser, c: str) -> None:
    if c in NEWLINE:
        p.state = State.PRE_KEY
        if c == "\n":  # before 254 "\\\r" ended the comment at the "\n" after it anyway
            p.swallowed_line = p.line + 1
    else:
        p.state = State.COMMENT


_HANDLERS: Final = {
    State.PRE_KEY: _pre_key,
    State.KEY: _key,
    State.PRE_VALUE: _pre_value,
    State.VALUE: _value,
    State.VALUE_ESCAPE: _value_escape,
    State.SINGLE_QUOTED: _single_quoted,
    State.DOUBLE_QUOTED: _double_quoted,
    State.DOUBLE_QUOTED_ESCAPE: _double_quoted_escape,
    State.COMMENT: _comment,
    State.COMMENT_ESCAPE: _comment_escape,
}


def parse_env_file(data: bytes, name: str = "env file") -> EnvFile:
    """The variables systemd would set from ``data``, and what to warn about."""
    text = data.decode("utf-8", "surrogateescape")
    parser = _Parser(name)
    text, nul, _ = text.partition("\0")
    for c in text:
        parser.feed(c)
    parser.end()
    if nul:
        parser.warn(parser.line, "a NUL byte: systemd reads nothing after it")
    return EnvFile(dict(parser.variables), tuple(parser.warnings))


def load_env_files(specs: Sequence[str]) -> EnvFile:
    """The files of several ``EnvironmentFile=`` lines, merged as systemd
    merges them (a later file wins).  A name starting with ``-`` may be
    missing, as in a unit (``--env-file=-/etc/ajam-gateway/a.env``)."""
    variables: dict[str, str] = {}
    warnings: list[str] = []
    for spec in specs:
        optional = spec.startswith("-")
        path = spec[1:] if optional else spec
        try:
            with open(path, "rb") as file:
                data = file.read()
        except FileNotFoundError:
            if optional:
                continue
            raise ConfigError(f"--env-file {path}: no such file") from None
        except OSError as exc:
            raise ConfigError(f"--env-file {path}: cannot read: {exc.strerror}") from exc
        parsed = parse_env_file(data, path)
        variables.update(parsed.variables)
        warnings.extend(parsed.warnings)
    return EnvFile(variables, tuple(warnings))
