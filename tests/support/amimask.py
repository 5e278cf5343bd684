"""Masking the values that change from run to run in an AMI stream.

The fixtures README lists them ("Values that change"): times, session ids,
Uniqueids, Local channel sequence numbers, ports, challenges, CDR times and
durations.  ``Masker`` replaces plain volatile values with ``*`` and renames
ids by order of first appearance (the first Uniqueid seen becomes ``U1``,
the first Local sequence number ``L1``), so that two streams compare equal
when they differ only in those values yet still agree on which event
belongs to which channel.

Typical use::

    expected = masked(parse_stream(ami_recv("ping")))
    actual = masked(parse_stream(bytes_from_the_simulator))
    assert actual == expected
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final

from gateway.ami.codec import Banner, Discarded, Parser
from gateway.ami.message import Message, decode, encode

VOLATILE: Final = frozenset(
    {
        "timestamp",
        "eventtv",
        "sessiontv",
        "sessionid",
        "uptime",
        "lastreload",
        "challenge",
        "starttime",
        "answertime",
        "endtime",
        "duration",
        "billableseconds",
        "seconds",
        "lastcall",
        "logintime",
    }
)
"""Names (lower case) whose whole value is replaced by ``*``."""

UNIQUEID_SUFFIXES: Final = ("uniqueid", "linkedid")
"""``Uniqueid``, ``DestLinkedid``, ``LocalOneUniqueid``, Cdr's ``UniqueID``..."""

ADDRESSES: Final = frozenset({"localaddress", "remoteaddress"})
LOCAL_SEQUENCE: Final = re.compile(r"(Local/[^\s;,/]+?-)([0-9a-f]{8})(?=;[12])")
DISCARDED: Final = "DISCARDED"
"""Name of the single field of the message that stands for a Discarded item."""


def parse_stream(data: bytes, *, banner: bool = True) -> list[Message]:
    """Every message of an AMI stream from Asterisk; a Discarded item becomes a
    ``DISCARDED: <reason>`` message so that comparisons see it."""
    out: list[Message] = []
    for item in Parser(expect_banner=banner).feed(data):
        if isinstance(item, Message):
            out.append(item)
        elif isinstance(item, Discarded):
            out.append(Message(((DISCARDED, item.reason),)))
        elif isinstance(item, Banner):
            out.append(Message((("BANNER", item.line),)))
    return out


class Masker:
    """Masks one stream.  Use one Masker per stream: it numbers ids as it goes."""

    def __init__(self) -> None:
        self._uniqueids: dict[str, str] = {}
        self._sequences: dict[str, str] = {}

    def __call__(self, message: Message) -> Message:
        return Message(tuple((name, self.value(name, value)) for name, value in message))

    def value(self, name: str, value: str) -> str:
        key = name.lower()
        if key in VOLATILE:
            return "*"
        if key in ADDRESSES:
            return value.rsplit("/", 1)[0] + "/*"
        if key.endswith(UNIQUEID_SUFFIXES) and value not in ("", "none", "<null>"):
            return self._uniqueids.setdefault(value, f"U{len(self._uniqueids) + 1}")
        return LOCAL_SEQUENCE.sub(self._sequence, value)

    def _sequence(self, match: re.Match[str]) -> str:
        number = self._sequences.setdefault(match.group(2), f"L{len(self._sequences) + 1}")
        return match.group(1) + number


def mask_bytes(data: bytes) -> bytes:
    """The raw stream with volatile values masked and every other byte kept,
    for byte-exact comparisons (leading spaces in values included)."""
    masker = Masker()
    lines = []
    for line in decode(data).split("\r\n"):
        name, colon, rest = line.partition(":")
        if colon:
            value = rest.removeprefix(" ")
            new = masker.value(name, value)
            if new != value:
                line = f"{name}: {new}"
        lines.append(line)
    return encode("\r\n".join(lines))


def masked(messages: Iterable[Message]) -> list[Message]:
    masker = Masker()
    return [masker(message) for message in messages]


def local_sequences(data: bytes) -> list[str]:
    """The Local channel sequence numbers in ``data``, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in LOCAL_SEQUENCE.finditer(data.decode("utf-8", "replace")):
        seen.setdefault(match.group(2), None)
    return list(seen)


def is_broadcast(message: Message) -> bool:
    """An event every session may get (``Privilege: <classes>,all``), as
    opposed to responses, list items and the login's FullyBooted."""
    privilege = message.get("Privilege") or ""
    return message.kind == "event" and privilege.endswith(",all") and message.name != "FullyBooted"


def session_part(messages: Sequence[Message]) -> list[Message]:
    """What the session's own actions produced, in order."""
    return [m for m in messages if not is_broadcast(m)]


def broadcast_part(messages: Sequence[Message]) -> Counter[Message]:
    """The broadcast events as a multiset: their order depends on thread timing."""
    return Counter(m for m in messages if is_broadcast(m))


DIALPLAN_EVENTS: Final = frozenset({"Newchannel", "Newexten", "Newstate", "Hangup"})


def channel_histories(messages: Sequence[Message]) -> dict[str, list[tuple[str, str, str]]]:
    """Per channel, the (event, priority, application) of the events its own
    thread writes in a fixed order: Newchannel, Newexten, Newstate, Hangup."""
    histories: dict[str, list[tuple[str, str, str]]] = {}
    for m in messages:
        if m.kind == "event" and m.name in DIALPLAN_EVENTS:
            entry = (m.name, m.get("Priority") or "", m.get("Application") or "")
            histories.setdefault(m.get("Channel") or "", []).append(entry)
    return histories
