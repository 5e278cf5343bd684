"""json: the contract's shape, no value ever lost, always valid UTF-8 JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.ami.message import OPAQUE, Message, decode, text_for_json
from gateway.render import FORMATS, RenderOptions, render
from gateway.render.json import always_array
from tests.support.renderdata import Rendered, captured_replies, parse_rawman

JSON = FORMATS["json"]
REPLIES = [reply for reply in captured_replies()[0] if reply.fmt == "rawman"]


def _load(body: bytes) -> Any:
    return json.loads(body.decode("utf-8"))


def _values(obj: dict[str, Any], key: str) -> list[str]:
    value = obj.get(key, [])
    return value if isinstance(value, list) else [value]


def _check_message(obj: dict[str, Any], msg: Message) -> None:
    """Every line is in the object, in order, under its own key."""
    keys = ["Output" if n == OPAQUE else text_for_json(n) for n, _ in msg]
    assert list(obj) == list(dict.fromkeys(keys))
    for key in obj:
        expected = [text_for_json(v) for k, (_, v) in zip(keys, msg, strict=True) if k == key]
        assert _values(obj, key) == expected
        assert isinstance(obj[key], list) == (len(expected) > 1 or always_array(key))


@pytest.mark.parametrize("reply", REPLIES, ids=lambda r: r.id)
def test_every_captured_reply(reply: Rendered) -> None:
    messages = parse_rawman(reply.body, keep_raw=True)
    doc = _load(render(JSON, messages))
    assert list(doc) == ["response", "events"]
    objects = [doc["response"], *doc["events"]] if messages else doc["events"]
    assert len(objects) == len(messages)
    for obj, msg in zip(objects, messages, strict=True):
        _check_message(obj, msg)


def test_command_output_is_one_array() -> None:
    msg = Message.of(("Response", "Success"), ("Message", "Command output follows"))
    one = _load(render(JSON, [msg.with_after_first("ActionID", "1")]))
    assert one["response"] == {"Response": "Success", "ActionID": "1", "Message": msg.fields[1][1]}
    lines = Message.of(("Response", "Success"), ("Output", "a"), ("Output", "b"))
    assert _load(render(JSON, [lines]))["response"]["Output"] == ["a", "b"]


def test_always_arrays_even_with_one_value() -> None:
    msg = Message.of(
        ("Event", "VarSet"),
        ("Variable", "A"),
        ("ChanVariable", "X=1"),
        ("ChanVariable(Local/1)", "Y=2"),
        ("Output", "one"),
        ("Value", "1"),
    )
    obj = _load(JSON.fragment(msg, RenderOptions()))
    assert obj == {
        "Event": "VarSet",
        "Variable": ["A"],
        "ChanVariable": ["X=1"],
        "ChanVariable(Local/1)": ["Y=2"],
        "Output": ["one"],
        "Value": "1",
    }


def test_repeats_become_arrays_and_case_variants_stay_apart() -> None:
    msg = Message.of(("Event", "E"), ("Foo", "1"), ("foo", "2"), ("Foo", "3"))
    assert _load(JSON.fragment(msg, RenderOptions())) == {
        "Event": "E",
        "Foo": ["1", "3"],
        "foo": "2",
    }


def test_opaque_lines_go_to_output() -> None:
    msg = Message.of(
        ("Response", "Follows"), ("Privilege", "Command"), (OPAQUE, "x"), (OPAQUE, "y")
    )
    obj = _load(JSON.fragment(msg, RenderOptions()))
    assert obj == {"Response": "Follows", "Privilege": "Command", "Output": ["x", "y"]}


def test_login_reply_carries_the_session_last() -> None:
    ok = Message.of(("Response", "Success"), ("Message", "Authentication accepted"))
    body = render(JSON, [ok], RenderOptions(session="n1" + "0" * 32))
    assert body == (
        b'{"response":{"Response":"Success","Message":"Authentication accepted"},'
        b'"events":[],"session":"n1' + b"0" * 32 + b'"}'
    )


def test_empty_document() -> None:
    assert render(JSON, []) == b'{"response":null,"events":[]}'


def test_utf8_kept_and_invalid_bytes_replaced() -> None:
    msg = Message.of(("Event", "E"), ("Name", decode("Иван".encode() + b"\xff")))
    body = JSON.fragment(msg, RenderOptions())
    assert "Иван\ufffd".encode() in body
    assert _load(body)["Name"] == "Иван\ufffd"


def test_metadata() -> None:
    assert JSON.content_type == "application/json; charset=utf-8"
    assert JSON.cache_key(RenderOptions()) == JSON.cache_key(RenderOptions("a", "b", "c"))


_WIRE_TEXT = st.binary(max_size=16).map(decode)


@given(
    st.lists(st.lists(st.tuples(_WIRE_TEXT, _WIRE_TEXT), max_size=10), max_size=5),
    st.none() | st.text(max_size=10),
)
def test_any_messages_give_valid_json_keeping_every_value(
    messages: list[list[tuple[str, str]]], session: str | None
) -> None:
    built = [Message(tuple(fields)) for fields in messages]
    body = render(JSON, built, RenderOptions(session=session))
    doc = _load(body)
    assert doc.get("session") == session
    objects = [doc["response"], *doc["events"]] if built else doc["events"]
    assert len(objects) == len(built)
    for obj, msg in zip(objects, built, strict=True):
        _check_message(obj, msg)
