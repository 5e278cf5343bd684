"""Asterisk's input rules: every captured client stream, and each edge of
get_input/do_message, fed whole, byte by byte and with trailing data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.ami.actionreader import ActionReader, ClientMessage, Problem
from gateway.ami.codec import MAX_ACTION_LINE, MAX_ACTION_LINES, Parser
from gateway.ami.message import OPAQUE, Message
from tests.support.fixturedata import ami_cases, ami_sent


def whole(data: bytes) -> list[ClientMessage]:
    return ActionReader().feed(data)


def bytewise(data: bytes) -> list[ClientMessage]:
    reader = ActionReader()
    out: list[ClientMessage] = []
    for byte in data:
        out += reader.feed(bytes([byte]))
    return out


def chunked(data: bytes, sizes: list[int]) -> list[ClientMessage]:
    reader = ActionReader()
    out: list[ClientMessage] = []
    pos = 0
    for size in sizes:
        out += reader.feed(data[pos : pos + size])
        pos += size
    return out + reader.feed(data[pos:])


Feed = Callable[[bytes], list[ClientMessage]]
FEEDS: list[Feed] = [whole, bytewise, lambda d: chunked(d, [3, 7, 1, 1024, 2])]


def fields(item: ClientMessage) -> tuple[tuple[str, str], ...]:
    return item.message.fields


@pytest.mark.parametrize("case", ami_cases())
def test_every_captured_client_stream_reads_as_the_codec_reads_it(case: str) -> None:
    """The captured clients wrote nothing unusual, except overlong_line's one
    line: the two readers agree on every other message, raw bytes included."""
    sent = ami_sent(case)
    expected = Parser(expect_banner=False, accept_actions=True).feed(sent)
    for feed in FEEDS:
        got = feed(sent)
        assert len(got) == len(expected)
        for item, message in zip(got, expected, strict=True):
            assert isinstance(message, Message)
            if item.problem is None:
                assert (item.message, item.message.raw) == (message, message.raw)
            else:  # the codec takes Asterisk's own long lines; a client may not
                assert (case, item.problem) == ("overlong_line", Problem.LINE_TOO_LONG)
                assert item.action_id == message.get("ActionID") == "ue-long-1"


@pytest.mark.parametrize("feed", FEEDS)
def test_lf_only_lines_and_trailing_data(feed: Feed) -> None:
    data = b"Action: Ping\nActionID: lf\n\nAction: Logoff\r\nActionID: "
    got = feed(data)
    assert [fields(item) for item in got] == [(("Action", "Ping"), ("ActionID", "lf"))]
    assert got[0].message.raw == b""  # not every line ended with CRLF


def test_the_rest_of_a_partial_message_completes_it() -> None:
    reader = ActionReader()
    assert reader.feed(b"Action: Ping\r\nActionID: a") == []
    (item,) = reader.feed(b"b\r\n\r\n")
    assert fields(item) == (("Action", "Ping"), ("ActionID", "ab"))
    assert item.message.raw == b"Action: Ping\r\nActionID: ab\r\n"


@pytest.mark.parametrize("feed", FEEDS)
def test_each_extra_blank_line_is_a_message_of_no_lines(feed: Feed) -> None:
    got = feed(b"\r\nAction: Ping\r\n\r\n\r\n\n")
    assert [fields(item) for item in got] == [(), (("Action", "Ping"),), (), ()]
    assert all(item.problem is None for item in got)


def test_values_lose_leading_blanks_below_33_names_keep_theirs() -> None:
    (item,) = whole(b"Action:\t \x01Ping \r\nActionID : x\r\nno colon here\r\n:v\r\n\r\n")
    assert fields(item) == (
        ("Action", "Ping "),
        ("ActionID ", "x"),
        (OPAQUE, "no colon here"),
        ("", "v"),
    )
    assert item.action_id is None  # "ActionID " is not ActionID, as in Asterisk


@pytest.mark.parametrize("size", [MAX_ACTION_LINE - 2, MAX_ACTION_LINE - 1])
def test_a_line_of_1024_bytes_with_its_terminator_fits(size: int) -> None:
    value = b"v" * (size - len(b"Action: "))
    line_end = b"\r\n" if size == MAX_ACTION_LINE - 2 else b"\n"
    for feed in FEEDS:
        (item,) = feed(b"Action: " + value + line_end + b"\r\n")
        assert item.problem is None
        assert len(item.message.get("Action") or "") == len(value)


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize("extra", [b"\r\n", b"x\n", b"x\r\n", b"x" * 5000 + b"\r\n"])
def test_a_longer_line_fails_its_message_never_splits_it(feed: Feed, extra: bytes) -> None:
    """1023 bytes + CRLF is where Asterisk's cut falls on the CR and runs the
    message's tail as a new action (D6): here it stays one refused message,
    with the ActionID from after the long line, and the next message runs."""
    long_line = b"UserEvent: " + b"x" * (MAX_ACTION_LINE - 1 - len(b"UserEvent: "))
    data = (
        b"Action: UserEvent\r\n"
        + long_line
        + extra
        + b"Action: Logoff\r\nActionID: after\r\n\r\nAction: Ping\r\n\r\n"
    )
    got = feed(data)
    assert [item.problem for item in got] == [Problem.LINE_TOO_LONG, None]
    assert got[0].action_id == "after"
    assert fields(got[1]) == (("Action", "Ping"),)


def test_an_unended_long_line_costs_no_memory() -> None:
    reader = ActionReader()
    reader.feed(b"Action: Ping\r\nX: ")
    for _ in range(1000):
        assert reader.feed(b"y" * 65536) == []
    assert len(reader._partial) == 0  # dropped as it comes
    (item,) = reader.feed(b"\r\nActionID: big\r\n\r\n")
    assert (item.problem, item.action_id) == (Problem.LINE_TOO_LONG, "big")


@pytest.mark.parametrize("feed", FEEDS)
def test_128_lines_run_129_are_refused_with_an_early_action_id(feed: Feed) -> None:
    lines = [b"Action: Ping", b"ActionID: early"] + [b"X: 1"] * (MAX_ACTION_LINES - 2)
    (ok,) = feed(b"\r\n".join(lines) + b"\r\n\r\n")
    assert ok.problem is None
    assert len(ok.message) == MAX_ACTION_LINES
    data = b"\r\n".join([*lines, b"ActionID: late"]) + b"\r\n\r\n"
    (refused,) = feed(data)
    assert (refused.problem, refused.action_id) == (Problem.TOO_MANY_LINES, "early")
    assert len(refused.message) == MAX_ACTION_LINES  # nothing past the limit is kept


def test_too_many_lines_outranks_a_long_line_and_a_bad_byte() -> None:
    lines = [b"Action: Ping", b"X: a\rb", b"Y: " + b"z" * 2000] + [b"X: 1"] * MAX_ACTION_LINES
    (item,) = whole(b"\r\n".join(lines) + b"\r\n\r\n")
    assert item.problem is Problem.TOO_MANY_LINES
    (item,) = whole(b"Action: Ping\r\nX: a\rb\r\nY: " + b"z" * 2000 + b"\r\n\r\n")
    assert item.problem is Problem.LINE_TOO_LONG


@pytest.mark.parametrize(
    "line",
    [b"Action: Ping\rX", b"Channel: a\x00b", b"\x00", b"\rActionID: y", b"Data: \r"],
)
def test_a_bare_cr_or_a_nul_marks_the_whole_message(line: bytes) -> None:
    for feed in FEEDS:
        got = feed(b"ActionID: keep\r\n" + line + b"\r\nAction: Ping\r\n\r\nAction: Ping\r\n\r\n")
        assert [item.problem for item in got] == [Problem.INVALID_CHARACTER, None]
        assert got[0].action_id == "keep"


def test_an_action_id_that_is_itself_the_bad_input_is_not_repeated() -> None:
    (item,) = whole(b"Action: Ping\r\nActionID: a\rb\r\n\r\n")
    assert item.problem is Problem.INVALID_CHARACTER
    assert item.action_id is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.lists(st.integers(1, 50), max_size=20))
def test_any_bytes_in_any_chunking_read_the_same(data: bytes, sizes: list[int]) -> None:
    expected = whole(data)
    assert chunked(data, sizes) == expected
    complete = data.split(b"\n")[:-1]
    assert len(expected) == sum(1 for line in complete if line in (b"", b"\r"))
    for item in expected:
        assert len(item.message) <= MAX_ACTION_LINES
        for name, value in item.message:
            assert "\n" not in name
            assert "\n" not in value
