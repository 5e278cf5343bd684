"""The AMI message: ordered pairs, lossless text, wire form."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.ami.message import OPAQUE, Message, decode, encode, text_for_json

PING = Message.of(("Response", "Success"), ("Ping", "Pong"), ("Timestamp", "1.5"))


@given(st.binary())
def test_decode_then_encode_gives_the_same_bytes(data: bytes) -> None:
    assert encode(decode(data)) == data


def test_utf8_is_plain_text_and_invalid_bytes_become_u_fffd_for_json() -> None:
    assert decode("Иван Петров".encode()) == "Иван Петров"
    assert text_for_json(decode(b"caf\xe9")) == "caf\ufffd"


def test_kind_and_name_come_from_the_first_line_only() -> None:
    assert PING.kind == "response"
    assert PING.name == "Success"
    assert Message.of(("Event", "Hangup"), ("Response", "x")).kind == "event"
    assert Message.of(("action", "Ping")).kind == "action"
    assert Message.of(("Ping", "Pong"), ("Event", "x")).kind == "other"
    assert Message(()).kind == "other"
    assert Message(()).name == ""


def test_lookups_are_case_insensitive_and_keep_repeats_in_order() -> None:
    message = Message.of(("Event", "VarSet"), ("Variable", "a=1"), ("variable", "b=2"))
    assert message.get("VARIABLE") == "a=1"
    assert message.get_all("Variable") == ["a=1", "b=2"]
    assert message.get("Missing") is None
    assert message.get("Missing", "x") == "x"
    assert message.has("event")
    assert not message.has("ActionID")
    assert list(message) == list(message.fields)
    assert len(message) == 3


def test_replace_sets_or_removes_every_line_of_a_name() -> None:
    message = Message(
        (("Response", "Success"), ("ActionID", "gw|1"), ("actionid", "x")), raw=b"raw"
    )
    assert message.replace("ActionID", "1").fields == (
        ("Response", "Success"),
        ("ActionID", "1"),
        ("actionid", "1"),
    )
    removed = message.replace("ActionID", None)
    assert removed.fields == (("Response", "Success"),)
    assert removed.raw == b""  # the raw bytes no longer describe it


def test_with_after_first_inserts_the_second_line() -> None:
    assert PING.with_after_first("ActionID", "7").fields[:2] == (
        ("Response", "Success"),
        ("ActionID", "7"),
    )


def test_to_wire_uses_raw_bytes_when_parsed_and_builds_them_otherwise() -> None:
    assert PING.to_wire() == b"Response: Success\r\nPing: Pong\r\nTimestamp: 1.5\r\n\r\n"
    parsed = Message((("Ping", "Pong"),), raw=b"Ping:   Pong\r\n")
    assert parsed.to_wire() == b"Ping:   Pong\r\n\r\n"  # passed through as received
    assert parsed == Message.of(("Ping", "Pong"))  # raw is not part of equality
    opaque = Message.of(("Response", "Follows"), (OPAQUE, "line without colon"))
    assert opaque.to_wire() == b"Response: Follows\r\nline without colon\r\n\r\n"
    assert Message.from_pairs(iter(PING.fields)) == PING
