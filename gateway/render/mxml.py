"""``/mxml``: one ``<response>`` element per message, fields as attributes.

Asterisk's own bytes, with two departures that only matter where Asterisk's
output would not be well-formed XML:

* ``ajaxdest`` and ``ajaxobjtype`` come from the query and Asterisk pastes them
  in as they are. Here ``ajaxdest`` is escaped like any value (and characters
  XML forbids are dropped), and ``ajaxobjtype`` is made a plain XML name: ASCII
  letters and digits kept with their case, every other byte ``_``, ``_`` before
  a leading digit. Empty means ``unknown`` and ``generic``, as in Asterisk.
* Asterisk numbers repeats by the field's exact name, so ``Foo`` and ``foo``
  would both become ``foo``: a duplicate attribute. Here repeats are counted by
  the attribute name, giving ``foo`` and ``foo-2``. A name that is empty after
  trimming becomes ``_``.

Values are passed as Asterisk does: invalid UTF-8 bytes and control
characters are not removed from them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from gateway.ami.message import Message, encode
from gateway.render.base import DEFAULT_AJAXDEST, DEFAULT_AJAXOBJTYPE, RenderOptions
from gateway.render.text import escape, numbered, rows


def _byte_table(lower: bool) -> bytes:
    def keep(byte: int) -> int:
        char = chr(byte)
        if not (char.isascii() and char.isalnum()):
            return ord("_")
        return ord(char.lower()) if lower else byte

    return bytes(keep(byte) for byte in range(256))


_ATTRIBUTE_BYTES: Final = _byte_table(lower=True)
"""Asterisk's mode 1|2: lower-case, every non-alphanumeric byte to ``_``."""

_ELEMENT_BYTES: Final = _byte_table(lower=False)

_NOT_XML_CHAR: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters that no XML 1.0 document may contain, not even as references."""

HEAD: Final = b"<ajax-response>\n"
TAIL: Final = b"</ajax-response>\n"


def _xml_name(name: str, table: bytes) -> str:
    out = encode(name).translate(table).decode("ascii")
    if not out:
        return "_"
    return f"_{out}" if out[0].isdigit() else out


def attribute_name(name: str) -> str:
    """``Cause-txt`` -> ``cause_txt``, ``1x`` -> ``_1x``: per byte, as Asterisk."""
    return _xml_name(name, _ATTRIBUTE_BYTES)


def element_name(objtype: str) -> str:
    """A safe element name from ``ajaxobjtype``."""
    return _xml_name(objtype, _ELEMENT_BYTES) if objtype else DEFAULT_AJAXOBJTYPE


def response_id(ajaxdest: str) -> str:
    """A safe attribute value from ``ajaxdest``."""
    return escape(_NOT_XML_CHAR.sub("", ajaxdest)) if ajaxdest else DEFAULT_AJAXDEST


def _value(lines: tuple[str, ...]) -> str:
    return "\n".join(escape(line) for line in lines)


@dataclass(frozen=True, slots=True)
class MxmlFormat:
    name: str = "mxml"
    content_type: str = "text/xml; charset=utf-8"

    def cache_key(self, opts: RenderOptions) -> str:
        # The element name holds no space, so the split is unambiguous.
        return f"mxml {element_name(opts.ajaxobjtype)} {response_id(opts.ajaxdest)}"

    def fragment(self, msg: Message, opts: RenderOptions) -> bytes:
        table = rows(msg)
        if not table:
            return b""
        names = numbered(attribute_name(name) for name, _ in table)
        attributes = "".join(
            f" {name}='{_value(lines)}'" for name, (_, lines) in zip(names, table, strict=True)
        )
        start = f"<response type='object' id='{response_id(opts.ajaxdest)}'>"
        return encode(f"{start}<{element_name(opts.ajaxobjtype)}{attributes} /></response>\n")

    def document(self, fragments: Sequence[bytes], opts: RenderOptions) -> bytes:
        return b"".join((HEAD, *fragments, TAIL))
