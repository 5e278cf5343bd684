"""The AMI message: ordered (name, value) pairs, never only a dict.

Text is decoded from the wire as UTF-8 with ``surrogateescape``: valid UTF-8
becomes ordinary text, and any invalid byte survives as a lone surrogate, so
that encoding back with ``surrogateescape`` gives the original bytes.  JSON
output replaces such surrogates with U+FFFD (``text_for_json``).

A line without a colon (old ``Response: Follows`` bodies) is kept as a pair
whose name is ``OPAQUE`` (the empty string): renderers show it as Asterisk
does (``opaque_data`` in mxml, the bare line in rawman).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final, Literal

OPAQUE: Final = ""
"""Name of a pair that stands for a line without a colon."""

WIRE_ENCODING: Final = "utf-8"
WIRE_ERRORS: Final = "surrogateescape"

Kind = Literal["response", "event", "action", "other"]

Field = tuple[str, str]


def decode(data: bytes) -> str:
    """Bytes from the wire (AMI or a percent-decoded query) to text, losslessly."""
    return data.decode(WIRE_ENCODING, WIRE_ERRORS)


def encode(text: str) -> bytes:
    """The inverse of ``decode``: the original bytes come back."""
    return text.encode(WIRE_ENCODING, WIRE_ERRORS)


def header(fields: Iterable[Field], name: str) -> str | None:
    """The first value of ``name``, case-insensitive, as astman_get_header."""
    wanted = name.lower()
    # A plain loop: next() over a generator was 8% of a poll's CPU (bench/).
    for key, value in fields:
        if key.lower() == wanted:
            return value
    return None


def header_values(fields: Iterable[Field], name: str) -> list[str]:
    """Every value of ``name``, case-insensitive, in order."""
    wanted = name.lower()
    return [value for key, value in fields if key.lower() == wanted]


def text_for_json(text: str) -> str:
    """Text safe for JSON: invalid bytes become U+FFFD."""
    return encode(text).decode(WIRE_ENCODING, "replace")


@dataclass(frozen=True, slots=True)
class Message:
    """One AMI message: its lines in order, plus the raw bytes when parsed."""

    fields: tuple[Field, ...]
    raw: bytes = field(default=b"", compare=False, repr=False)
    """The bytes as received, closing blank line excluded; empty when built."""

    @classmethod
    def of(cls, *pairs: Field) -> Message:
        return cls(tuple(pairs))

    @classmethod
    def from_pairs(cls, pairs: Iterable[Field]) -> Message:
        return cls(tuple(pairs))

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    @property
    def kind(self) -> Kind:
        """Classified by the FIRST line only, as Asterisk's clients must."""
        if not self.fields:
            return "other"
        first = self.fields[0][0].lower()
        if first == "response":
            return "response"
        if first == "event":
            return "event"
        if first == "action":
            return "action"
        return "other"

    @property
    def name(self) -> str:
        """The value of the first line: the response status or event name."""
        return self.fields[0][1] if self.fields else ""

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value whose name matches case-insensitively."""
        value = header(self.fields, name)
        return default if value is None else value

    def get_all(self, name: str) -> list[str]:
        return header_values(self.fields, name)

    def has(self, name: str) -> bool:
        return self.get(name) is not None

    def replace(self, name: str, value: str | None) -> Message:
        """Every ``name`` line set to ``value``, or removed when it is None.

        The raw bytes are dropped: they no longer describe the message.
        """
        wanted = name.lower()
        if value is None:
            pairs = tuple(p for p in self.fields if p[0].lower() != wanted)
        else:
            pairs = tuple((k, value) if k.lower() == wanted else (k, v) for k, v in self.fields)
        return Message(pairs)

    def with_after_first(self, name: str, value: str) -> Message:
        """A copy with ``name: value`` inserted as the second line."""
        return Message((*self.fields[:1], (name, value), *self.fields[1:]))

    def to_wire(self) -> bytes:
        """The message as AMI lines with the closing blank line (CRLF)."""
        if self.raw:
            return self.raw + b"\r\n"
        parts = [
            encode(value if key == OPAQUE else f"{key}: {value}") + b"\r\n"
            for key, value in self.fields
        ]
        parts.append(b"\r\n")
        return b"".join(parts)
