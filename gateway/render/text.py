"""How Asterisk turns a message into table rows for mxml and manager (HTML).

Facts from manager.c's xml_translate and xml_copy_escape and the captures:

* each line is trimmed: blanks (any byte below 33) after the name and around
  the value go;
* the first line without a colon starts ``Opaque-data``, and every later line
  of the message, colon or not, is one more line of that same value;
* the five markup characters become ``&lt; &gt; &quot; &apos; &amp;``, and
  nothing else is touched (non-ASCII passes raw);
* a repeated name is numbered ``name``, ``name-2``, ``name-3``...

One departure: Asterisk ends the block at an opaque line that is blank, so the
rest of the message would show as a new object. Here a message is always one
object, and such a line is an empty line of the opaque value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from gateway.ami.message import OPAQUE, Message

BLANKS: Final = "".join(map(chr, range(33)))
"""What Asterisk's ast_trim_blanks and ast_skip_blanks remove."""

OPAQUE_NAME: Final = "Opaque-data"
"""The name Asterisk gives the text that follows a line without a colon."""

Row = tuple[str, tuple[str, ...]]
"""A row's name and its lines: one for a field, one or more for opaque data."""


def escape(text: str) -> str:
    """Escape as xml_copy_escape does for values (and for HTML names)."""
    if not any(char in text for char in "<>\"'&"):
        return text
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def _line(name: str, value: str) -> str:
    return value if name == OPAQUE else f"{name}: {value}"


def rows(msg: Message) -> list[Row]:
    """The message's rows after Asterisk's trimming and opaque joining."""
    out: list[Row] = []
    fields = msg.fields
    for index, (name, value) in enumerate(fields):
        if name == OPAQUE:
            rest = (_line(n, v).rstrip(BLANKS) for n, v in fields[index + 1 :])
            out.append((OPAQUE_NAME, (value.rstrip(BLANKS), *rest)))
            break
        out.append((name.rstrip(BLANKS), (value.strip(BLANKS),)))
    return out


def numbered(names: Iterable[str]) -> Iterator[str]:
    """Each name, with ``-N`` added to its N-th occurrence (N >= 2)."""
    seen: dict[str, int] = {}
    for name in names:
        count = seen.get(name, 0) + 1
        seen[name] = count
        yield name if count == 1 else f"{name}-{count}"
