"""The compared parts of an AJAM HTTP response, with volatile values masked.

The fixtures README lists the values that change from run to run; only
those are masked here.  Plain ones become ``*``; Uniqueids and Local channel
sequence numbers are renumbered by first appearance (``U1``, ``L1``, via
tests/support/amimask.py), so that two bodies still agree on which event belongs to
which channel; address ports become ``*``.  The session id in Set-Cookie
becomes ``<same>`` (the request's), ``<new>`` or ``<seen>`` (an older one of
the same side), after its form is checked; so do the digest nonces in
WWW-Authenticate, which become ``<nonce1>``, ``<nonce2>``... by first
appearance (opaque repeats its nonce on both sides).  Bodies of every output format are
understood: rawman ``Name: value`` lines, mxml ``name='value'`` attributes,
manager ``<tr><td>Name</td><td>value</td></tr>`` rows.

Use one ``ViewMaker`` per side and per case, fed in exchange order.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.ami.message import Message, decode, encode, header
from tests.support.amimask import (
    VOLATILE,
    Masker,
    broadcast_part,
    channel_histories,
    parse_stream,
    session_part,
)

COOKIE_LINE = re.compile(rb"(?im)^(Cookie:[^\r\n]*)(?=\r\n|\Z)")
COOKIE_ID = re.compile(rb'(mansession_id=)("?)([^";,\s]*)')
SET_COOKIE_ID = re.compile(r'mansession_id="([^"]*)"')
CHALLENGE_NONCE = re.compile(r'\b(nonce|opaque)="([^"]*)"')


def split_response(raw: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    return int(lines[0].split(" ")[1]), headers, body


def request_cookie_id(request: bytes) -> str | None:
    line = COOKIE_LINE.search(request.split(b"\r\n\r\n", 1)[0])
    match = COOKIE_ID.search(line.group(1)) if line else None
    return match.group(3).decode("latin-1") if match else None


README_VOLATILE: Final[Mapping[str, tuple[str, ...]]] = {
    "Timestamp:": ("timestamp",),
    "EventTV/SessionTV": ("eventtv", "sessiontv"),
    "SessionID: 0x...": ("sessionid",),
    "Uptime/LastReload": ("uptime", "lastreload"),
    "Challenge: numbers": ("challenge",),
    "CDR times": ("starttime", "answertime", "endtime", "billableseconds"),
    "Duration": ("duration",),
}
MASKED: Final = frozenset(name for names in README_VOLATILE.values() for name in names)
"""The README's plain volatile values, keyed by its wording.  Uniqueids,
Local sequence numbers and ports are renumbered or masked by ``Masker``."""
EPOCH_TIMES: Final = frozenset({"logintime", "lastcall"})
"""QueueMember's absolute epoch seconds: they change from run to run like
Timestamp, though the README does not name them.  Masked only while they look
like epoch seconds, so that a wrong kind of value still shows."""
_EPOCH = re.compile(r"\d{10}")

FIELDS: Final[Mapping[str, re.Pattern[str]]] = {
    "rawman": re.compile(r"(?m)^(?P<name>[^:\r\n]+): (?P<value>[^\r\n]*)"),
    "mxml": re.compile(r"(?P<name>[A-Za-z0-9_-]+)='(?P<value>[^']*)'"),
    "manager": re.compile(r"<tr><td>(?P<name>[^<]*)</td><td>(?P<value>[^<]*)</td></tr>"),
}
"""Where a (name, value) pair sits in each output format's body."""


class FieldMasker(Masker):
    """amimask's Masker, narrowed to the README's list of volatile values."""

    def value(self, name: str, value: str) -> str:
        key = name.lower()
        if key in MASKED:
            return "*"
        if key in EPOCH_TIMES and _EPOCH.fullmatch(value):
            return "<epoch>"
        if key in VOLATILE:  # amimask masks more than the README lists: not here
            return super().value("", value)
        return super().value(name, value)


@dataclass(frozen=True, slots=True)
class View:
    """The compared parts of one response, volatile values masked."""

    status: int
    content_type: str | None
    cache_control: str | None
    set_cookie: str | None
    """The id replaced by <same> (the request's), <new> or <seen> (an older one)."""
    pragma: str | None
    connection: str | None
    content_length: str | None
    """The header, or ``<masked>`` where masking changed the body's length."""
    body: bytes
    closed: bool | None = None
    www_authenticate: str | None = None
    """Digest nonces numbered by first appearance, after their form is checked."""


@dataclass
class ViewMaker:
    """Masks one side of one case, response after response, in exchange order."""

    fmt: str
    session_id: re.Pattern[str]
    """What a well-formed session id looks like on this side."""
    masker: FieldMasker = field(default_factory=FieldMasker)
    seen: set[str] = field(default_factory=set)
    nonces: dict[str, int] = field(default_factory=dict)

    def __call__(self, raw: bytes, request: bytes, closed: bool | None = None) -> View:
        status, headers, body = split_response(raw)
        masked = self.body(body)
        length = header(headers, "Content-Length")
        return View(
            status=status,
            content_type=header(headers, "Content-Type"),
            cache_control=header(headers, "Cache-Control"),
            set_cookie=self.cookie(header(headers, "Set-Cookie"), request_cookie_id(request)),
            pragma=header(headers, "Pragma"),
            connection=header(headers, "Connection"),
            content_length=length if masked == body else "<masked>",
            body=masked,
            closed=closed,
            www_authenticate=self.challenge(header(headers, "WWW-Authenticate")),
        )

    def challenge(self, value: str | None) -> str | None:
        def one(match: re.Match[str]) -> str:
            nonce = match.group(2)
            if not self.session_id.fullmatch(nonce):
                return f'{match.group(1)}="<malformed {nonce}>"'
            number = self.nonces.setdefault(nonce, len(self.nonces) + 1)
            return f'{match.group(1)}="<nonce{number}>"'

        return None if value is None else CHALLENGE_NONCE.sub(one, value)

    def body(self, body: bytes) -> bytes:
        def one(match: re.Match[str]) -> str:
            value = self.masker.value(match.group("name"), match.group("value"))
            start, end = (i - match.start() for i in match.span("value"))
            return match.group(0)[:start] + value + match.group(0)[end:]

        return encode(FIELDS[self.fmt].sub(one, decode(body)))

    def cookie(self, value: str | None, request_id: str | None) -> str | None:
        match = SET_COOKIE_ID.match(value or "")
        if value is None or match is None:
            return value
        sid = match.group(1)
        if not self.session_id.fullmatch(sid):
            label = f"malformed {sid}"
        elif sid == request_id:
            label = "same"
        else:
            label = "seen" if sid in self.seen else "new"
        self.seen.add(sid)
        return f'mansession_id="<{label}>"{value[match.end() :]}'


ASTERISK_ID: Final = re.compile(r"[0-9a-f]{8}")


def gateway_id(node_id: str) -> re.Pattern[str]:
    return re.compile(re.escape(node_id) + r"[0-9a-f]{32}")


Change = Callable[[View], View]


def by_thread(bodies: list[bytes]) -> tuple[list[Message], Counter[Message], dict[str, Any]]:
    """Waitevent bodies as Asterisk's threads guarantee them: the session's own
    messages in order, the broadcast events as a multiset, and each channel's
    dialplan events in order (the rule of tests/simulator/test_server.py)."""
    return threads([m for body in bodies for m in parse_stream(body, banner=False)])


def threads(messages: list[Message]) -> tuple[list[Message], Counter[Message], dict[str, Any]]:
    """``by_thread`` for messages read from a body of any format."""
    return session_part(messages), broadcast_part(messages), channel_histories(messages)
