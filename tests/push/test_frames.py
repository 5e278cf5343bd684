"""The push shapes (SSE messages, WebSocket frames) and the client frames' parser."""

from __future__ import annotations

import json

import pytest

from gateway.ami.message import Message
from gateway.core.cursors import LossReason, lost_notice
from gateway.core.events import PUSH_KEYS, EventLog, Placement
from gateway.errors import (
    AmiLevelError,
    AuthenticationFailed,
    CredentialsMismatch,
    Forbidden,
    InvalidField,
    NotAuthenticated,
    StreamsUnavailable,
    TooManySessions,
)
from gateway.push import frames
from gateway.push.request import event_names, refusal
from gateway.push.wsframes import BadFrame, parse_action
from gateway.render import DEFAULT_OPTIONS, FORMATS


def test_an_event_is_rendered_once_per_shape_and_counted_by_the_ring() -> None:
    log = EventLog(10, 1 << 20)
    event = log.append(Message.of(("Event", "Hangup"), ("Privilege", "call,all"), ("A", "1")))
    before = log.held_bytes
    sse = frames.sse_event(event)
    assert (
        sse == b'id: 1\nevent: Hangup\ndata: {"Event":"Hangup","Privilege":"call,all","A":"1"}\n\n'
    )
    assert frames.sse_event(event) is sse  # cached, not made again
    ws = frames.ws_event(event)
    assert ws[:2] == bytes([0x81, len(ws) - 2])  # FIN + text, its length, unmasked
    assert json.loads(ws[2:]) == {"id": 1, "event": json.loads(frames.json_of(event))}
    assert frames.ws_event(event) is ws
    assert log.held_bytes > before + len(sse) + len(ws)
    assert frames.json_of(event) == FORMATS["json"].fragment(event.message, DEFAULT_OPTIONS)


def test_the_push_shapes_are_cached_even_when_mxml_keys_filled_the_cache() -> None:
    log = EventLog(10, 1 << 20)
    event = log.append(Message.of(("Event", "X")))
    for n in range(10):
        event.remember(f"mxml-{n}", b"x")
    frames.sse_event(event)
    frames.ws_event(event)
    assert set(event.fragments) >= PUSH_KEYS


def test_an_event_name_cannot_break_the_sse_framing() -> None:
    log = EventLog(10)
    event = log.append(Message.of(("Event", "Evil\r\nid: 99\n"), ("Privilege", "user,all")))
    message = frames.sse_event(event)
    assert message.startswith(b"id: 1\nevent: Evilid: 99\ndata: ")
    assert message.count(b"\n") == 4  # id, event, data, blank


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_websocket_frame_lengths(size: int) -> None:
    frame = frames.ws_frame(b"a" * size)
    head = 2 if size < 126 else 4 if size < 65536 else 10
    assert len(frame) == head + size
    assert frame[0] == 0x81
    marker = frame[1]
    assert marker == size if size < 126 else marker in (126, 127)


def test_notices_have_no_id() -> None:
    lost = frames.sse_notice(lost_notice(3, LossReason.OVERRUN))
    assert lost == (
        b'event: GatewayEventsLost\ndata: {"Event":"GatewayEventsLost","Privilege":"system,all",'
        b'"Lost":"3","Reason":"Overrun"}\n\n'
    )
    closed = frames.ws_notice(frames.closed_notice("shutdown"))
    assert json.loads(closed[2:]) == {
        "event": {"Event": "GatewayStreamClosed", "Privilege": "system,all", "Reason": "shutdown"}
    }
    assert frames.sse_opening(2000, Placement(7, foreign=False)) == b"retry: 2000\nid: 7\n\n"
    assert frames.sse_opening(2000, Placement(7, foreign=True)) == b"retry: 2000\n\n"
    assert frames.chunk(b"abc") == b"3\r\nabc\r\n"


def test_a_client_frame_becomes_ordered_fields() -> None:
    fields = parse_action(
        '{"Action": "Originate", "Variable": ["A=1", "B=2"], "Timeout": 30000, '
        '"Ratio": 2.5, "Variable": "C=3", "Empty": []}'
    )
    assert fields == [
        ("Action", "Originate"),
        ("Variable", "A=1"),
        ("Variable", "B=2"),
        ("Timeout", "30000"),
        ("Ratio", "2.5"),
        ("Variable", "C=3"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "Invalid JSON"),
        ("[1]", "A frame must be a JSON object"),
        ('"Ping"', "A frame must be a JSON object"),
        ('{"A": null}', "A: values must be"),
        ('{"A": false}', "A: values must be"),
        ('{"A": {"B": "C"}}', "A: values must be"),
        ('{"A": [["x"]]}', "A: values must be"),
        ('{"A": NaN}', "Invalid JSON: NaN is not a number"),
        ('{"A": Infinity}', "Invalid JSON: Infinity is not a number"),
        ("[" * 100_000, "Invalid JSON"),
    ],
)
def test_frames_that_are_not_actions(text: str, message: str) -> None:
    with pytest.raises(BadFrame) as error:
        parse_action(text)
    assert error.value.message.startswith(message)


def test_event_names() -> None:
    assert event_names(None) is None
    assert event_names("Newchannel, hangup,,") == frozenset({"newchannel", "hangup"})
    for bad in ("", ",", ",".join(f"e{n}" for n in range(300)), "x" * 200):
        with pytest.raises(InvalidField):
            event_names(bad)


@pytest.mark.parametrize(
    ("error", "kind", "status"),
    [
        (AuthenticationFailed(), NotAuthenticated, 401),
        (CredentialsMismatch(), Forbidden, 403),
        (TooManySessions(), StreamsUnavailable, 503),
        (AmiLevelError("Something else"), InvalidField, 400),
    ],
)
def test_a_login_gate_error_becomes_a_stream_refusal(
    error: AmiLevelError, kind: type, status: int
) -> None:
    answer = refusal(error)
    assert isinstance(answer, kind)
    assert answer.status == status
    assert answer.message == error.message
