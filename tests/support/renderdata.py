"""Test-only readers that turn captured AJAM bodies back into messages.

Each parser works on the capture alone and is written independently of the
renderers, so that rendering what it finds and comparing with the capture
checks every byte of the renderer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from gateway.ami.message import OPAQUE, Field, Message, decode
from tests.support.fixturedata import Exchange, ajam_cases, read_http_fixture

FORMAT_BY_TYPE: Final = {"text/plain": "rawman", "text/xml": "mxml", "text/html": "manager"}


@dataclass(frozen=True, slots=True)
class Rendered:
    """One captured 200 reply of a renderer, with what is needed to redo it."""

    case: str
    number: int
    fmt: str
    body: bytes
    query: tuple[tuple[str, str], ...]

    @property
    def id(self) -> str:
        return f"{self.case}#{self.number}"

    def param(self, name: str) -> str:
        return next((v for k, v in self.query if k.lower() == name), "")


def _format_of(case: str, content_type: str) -> str:
    fmt = FORMAT_BY_TYPE[content_type]
    return "amanager" if case.startswith("amanager") else fmt


def _excluded_reason(exchange: Exchange) -> str | None:
    response = exchange.parsed_response()
    if response is None:
        return "no response at all (request line over 4 KB)"
    if response.status != 200:
        return f"HTTP {response.status} page from the HTTP layer, not a rendered AMI reply"
    if exchange.method == "HEAD":
        return "HEAD: headers only, no body"
    return None


def captured_replies() -> tuple[list[Rendered], dict[str, str]]:
    """Every renderer reply in the captures, and every other exchange with why."""
    replies: list[Rendered] = []
    excluded: dict[str, str] = {}
    for case in ajam_cases():
        for exchange in read_http_fixture(case):
            reason = _excluded_reason(exchange)
            if reason is not None:
                excluded[f"{case}#{exchange.number}"] = reason
                continue
            response = exchange.parsed_response()
            assert response is not None
            content_type = response.header("Content-type") or ""
            query = exchange.request_body if exchange.method == "POST" else b""
            query = query or urlsplit(exchange.target).query.encode("latin-1")
            pairs = parse_qsl(query.decode("utf-8", "surrogateescape"), keep_blank_values=True)
            fmt = _format_of(case, content_type)
            replies.append(Rendered(case, exchange.number, fmt, response.body, tuple(pairs)))
    return replies, excluded


def parse_rawman(body: bytes, *, keep_raw: bool) -> list[Message]:
    """``Key: Value`` blocks; a line without ``": "`` is kept whole as OPAQUE."""
    messages: list[Message] = []
    for block in body.split(b"\r\n\r\n")[:-1]:
        fields: list[Field] = []
        for line in block.split(b"\r\n"):
            name, sep, value = line.partition(b": ")
            fields.append((decode(name), decode(value)) if sep else (OPAQUE, decode(line)))
        raw = block + b"\r\n" if keep_raw else b""
        messages.append(Message(tuple(fields), raw))
    return messages


def unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


def _opaque(value: str, separator: str) -> list[Field]:
    return [(OPAQUE, line) for line in value.split(separator)]


_MXML_RESPONSE: Final = re.compile(
    r"<response type='object' id='([^']*)'><([A-Za-z0-9_]+)((?: [^=' ]+='[^']*')*) />"
    r"</response>\n"
)
_MXML_ATTRIBUTE: Final = re.compile(r" ([a-z0-9_]+)(?:-\d+)?='([^']*)'")


@dataclass(frozen=True, slots=True)
class MxmlReply:
    ids: list[str]
    elements: list[str]
    messages: list[Message]


def parse_mxml(body: bytes) -> MxmlReply:
    """``<response>`` elements back to messages (names as mxml shows them)."""
    text = decode(body)
    assert text.startswith("<ajax-response>\n")
    assert text.endswith("</ajax-response>\n")
    inner = text[len("<ajax-response>\n") : -len("</ajax-response>\n")]
    found = list(_MXML_RESPONSE.finditer(inner))
    assert "".join(m.group(0) for m in found) == inner
    messages = []
    for match in found:
        fields: list[Field] = []
        for name, value in _MXML_ATTRIBUTE.findall(match.group(3)):
            if name == "opaque_data":
                fields.extend(_opaque(unescape(value), "\n"))
            else:
                fields.append((name, unescape(value)))
        messages.append(Message(tuple(fields)))
    return MxmlReply([m.group(1) for m in found], [m.group(2) for m in found], messages)


_HTML_ROW: Final = re.compile(
    r'<tr><td>(.*?)</td><td>(.*?)</td></tr>\n|(<tr><td colspan="2"><hr></td></tr>\r\n)',
    re.DOTALL,
)
_NUMBERED: Final = re.compile(r"(.*)-(\d+)")


def _html_name(name: str, counts: dict[str, int]) -> str:
    """Undo ``Name-N`` only where it follows ``Name`` seen N-1 times."""
    match = _NUMBERED.fullmatch(name)
    if match and counts.get(match.group(1)) == int(match.group(2)) - 1:
        name = match.group(1)
    counts[name] = counts.get(name, 0) + 1
    return name


def parse_html(body: bytes, head: bytes, tail: bytes) -> list[Message]:
    """Table rows back to messages; ``head`` and ``tail`` are the page around them."""
    assert body.startswith(head)
    assert body.endswith(tail)
    inner = decode(body[len(head) : len(body) - len(tail)])
    found = list(_HTML_ROW.finditer(inner))
    assert "".join(m.group(0) for m in found) == inner
    messages: list[Message] = []
    fields: list[Field] = []
    counts: dict[str, int] = {}
    for match in found:
        if match.group(3):
            messages.append(Message(tuple(fields)))
            fields, counts = [], {}
            continue
        name = _html_name(unescape(match.group(1)), counts)
        value = unescape(match.group(2))
        if name == "Opaque-data":
            fields.extend(_opaque(value, "<br>\n"))
        else:
            fields.append((name, value))
    assert not fields
    return messages
