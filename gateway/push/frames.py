"""The push streams' bytes: SSE messages and WebSocket frames, sans-I/O.

An event's shapes are made once and cached on it (``StoredEvent.remember``,
counted against the ring's bytes), however many streams receive it:

* ``sse``: ``id: <seq>\\nevent: <Event>\\ndata: <json>\\n\\n``, where ``<json>``
  is exactly the event's ``/json`` object (``gateway.render.json``) on one
  line (JSON escapes every CR and LF inside values);
* ``ws``: a whole WebSocket text frame (RFC 6455 5.2: a server's frames are
  not masked) holding ``{"id":<seq>,"event":<json>}``.

A batch of events for one stream is one write: for SSE one HTTP/1.1 chunk
(``chunk``) when the response is chunked, for WebSocket the frames one after
another.  The gateway's own notices (``GatewayEventsLost`` of
``gateway.core.cursors``, ``GatewayStreamClosed``) have no ``id``: they are
not in the log.
"""

from __future__ import annotations

import re
import struct
from typing import Final

from gateway.ami.message import Field, Message
from gateway.core.events import Placement, StoredEvent
from gateway.http.respond import event_fragment
from gateway.render import DEFAULT_OPTIONS, FORMATS

JSON: Final = FORMATS["json"]
_UNSAFE_NAME: Final = re.compile(r"[\r\n\x00]")
"""An SSE field ends at CR or LF: an event name never carries one into the stream."""

SSE_HEARTBEAT: Final = b":\n\n"
"""A comment line: proxies see traffic, EventSource ignores it."""
WS_PING: Final = b"\x89\x00"
"""A WebSocket ping with no payload (FIN, opcode 9)."""
TEXT: Final = 0x1
CLOSE: Final = 0x8


def json_of(event: StoredEvent) -> bytes:
    """The event's ``/json`` object, shared with the ``/json`` answers' cache."""
    return event_fragment(JSON, "json", event, DEFAULT_OPTIONS)


def sse_event(event: StoredEvent) -> bytes:
    cached = event.fragments.get("sse")
    if cached is None:
        head = b"id: %d\nevent: %s\ndata: " % (event.seq, _event_type(event.message))
        cached = event.remember("sse", head + json_of(event) + b"\n\n")
    return cached


def ws_event(event: StoredEvent) -> bytes:
    cached = event.fragments.get("ws")
    if cached is None:
        payload = b'{"id":%d,"event":%s}' % (event.seq, json_of(event))
        cached = event.remember("ws", ws_frame(payload))
    return cached


def notice(*pairs: Field) -> Message:
    """One of the gateway's own events (``Privilege: system,all``)."""
    return Message.of(("Event", pairs[0][1]), ("Privilege", "system,all"), *pairs[1:])


def closed_notice(reason: str) -> Message:
    """The last message of an SSE stream the gateway ends."""
    return notice(("Event", "GatewayStreamClosed"), ("Reason", reason))


def sse_notice(message: Message) -> bytes:
    body = JSON.fragment(message, DEFAULT_OPTIONS)
    return b"event: %s\ndata: %s\n\n" % (_event_type(message), body)


def ws_notice(message: Message) -> bytes:
    return ws_frame(b'{"event":' + JSON.fragment(message, DEFAULT_OPTIONS) + b"}")


def sse_opening(retry_ms: int, placement: Placement) -> bytes:
    """The reconnect hint, and the stream's starting cursor as an ``id`` with
    no data: a browser takes it as its Last-Event-ID without an event, so a
    reconnect before any event resumes from here.  Not for a foreign cursor:
    the client keeps its own, so a reconnect before the notice hears it too."""
    if placement.foreign:
        return b"retry: %d\n\n" % retry_ms
    return b"retry: %d\nid: %d\n\n" % (retry_ms, placement.cursor)


def chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk (RFC 9112 7.1)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def ws_frame(payload: bytes, opcode: int = TEXT) -> bytes:
    """One unfragmented, unmasked frame (RFC 6455 5.2)."""
    size = len(payload)
    first = 0x80 | opcode
    if size < 126:
        head = struct.pack("!BB", first, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", first, 126, size)
    else:
        head = struct.pack("!BBQ", first, 127, size)
    return head + payload


def _event_type(message: Message) -> bytes:
    return _UNSAFE_NAME.sub("", message.name).encode("utf-8", "replace")
