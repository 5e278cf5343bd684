"""The sans-I/O codec against the Asterisk 22 captures and a Follows fixture."""

from __future__ import annotations

import logging
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.ami.codec import (
    MAX_ACTION_LINE,
    MAX_ACTION_LINES,
    Banner,
    Discarded,
    Item,
    Parser,
    encode_action,
    encode_checked,
    validate_action,
)
from gateway.ami.message import OPAQUE, Message, decode
from gateway.errors import InvalidCharacter, RequestTooLarge
from tests.support.fixturedata import ami_cases, ami_recv, ami_sent, read_http_fixture

FOLLOWS = Path(__file__).parents[1] / "data" / "ami_follows.recv"
PARTIAL = b"Event: Partial\r\nFoo: ba"


def parse(data: bytes, **kwargs: Any) -> list[Item]:
    return Parser(**kwargs).feed(data)


def parse_chunked(data: bytes, sizes: list[int], **kwargs: Any) -> list[Item]:
    parser = Parser(**kwargs)
    out: list[Item] = []
    pos = 0
    for size in sizes:
        out += parser.feed(data[pos : pos + size])
        pos += size
    return out + parser.feed(data[pos:])


def messages(items: list[Item]) -> list[Message]:
    return [item for item in items if isinstance(item, Message)]


def only(items: list[Item], first: tuple[str, str], action_id: str | None = None) -> Message:
    found = [
        m
        for m in messages(items)
        if m.fields[0] == first and (action_id is None or m.get("ActionID") == action_id)
    ]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("case", ami_cases())
def test_fixture_whole_equals_byte_by_byte(case: str) -> None:
    data = ami_recv(case)
    whole = parse(data)
    assert whole == parse_chunked(data, [1] * len(data))
    assert whole[0] == Banner("Asterisk Call Manager/11.0.0")
    assert len(messages(whole)) >= 1


@pytest.mark.parametrize("case", ami_cases())
def test_fixture_with_partial_next_message(case: str) -> None:
    data = ami_recv(case)
    assert parse(data + PARTIAL) == parse(data)
    assert parse(data + b"Event: Partial\r\n\r") == parse(data)


@pytest.mark.parametrize("case", [c for c in ami_cases() if c != "crlf_userevent_from_ajam"])
def test_fixture_raw_bytes_rebuild_the_stream(case: str) -> None:
    data = ami_recv(case)
    items = parse(data)
    assert all(not isinstance(item, Discarded) for item in items)
    rebuilt = b"Asterisk Call Manager/11.0.0\r\n" + b"".join(m.to_wire() for m in messages(items))
    assert rebuilt == data


@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(ami_cases()),
    sizes=st.lists(st.integers(min_value=1, max_value=3000), max_size=40),
)
def test_fixture_random_chunkings(case: str, sizes: list[int]) -> None:
    data = ami_recv(case)
    assert parse_chunked(data, sizes) == parse(data)


def test_banner_version() -> None:
    assert Banner("Asterisk Call Manager/11.0.0").version == "11.0.0"
    assert Banner("garbage").version == ""


def test_fully_booted_fields() -> None:
    booted = only(parse(ami_recv("banner_login_ok")), ("Event", "FullyBooted"))
    assert booted.fields == (
        ("Event", "FullyBooted"),
        ("Privilege", "system,all"),
        ("Uptime", "413"),
        ("LastReload", "413"),
        ("Status", "Fully Booted"),
    )
    assert booted.kind == "event"


def test_listcommands_one_line_per_action() -> None:
    response = only(parse(ami_recv("listcommands")), ("Response", "Success"), "lc-1")
    assert len(response) == 102
    assert response.get("ActionID") == "lc-1"
    assert sum("(Priv: " in value for _, value in response) == 100
    assert response.get("WaitEvent") == "Wait for an event to occur.  (Priv: <none>)"


def test_values_keep_colons_and_empty_values() -> None:
    event = only(parse(ami_recv("userevent_action")), ("Event", "UserEvent"))
    assert event.get("Header2") == "value with: colon"
    assert event.get("Foo") == "bar baz"
    getvar = [m for m in messages(parse(ami_recv("getvar_setvar"))) if m.get("ActionID") == "gv-2"]
    assert getvar[0].get("Value") == ""


def test_leading_spaces_skipped_but_raw_kept() -> None:
    response = only(parse(ami_recv("command_multiline")), ("Response", "Success"), "cmd-multi-1")
    assert response.get_all("Output")[0] == "Action                          Synopsis"
    assert b"Output:   Action                          Synopsis\r\n" in response.raw


def test_utf8_callerid_round_trips() -> None:
    items = parse(ami_recv("utf8_callerid"))
    names = [m.get("CallerIDName") for m in messages(items)]
    assert names.count("Иван Петров") >= 3
    assert all(m.raw for m in messages(items))
    sent = messages(parse(ami_sent("utf8_callerid"), expect_banner=False, accept_actions=True))
    originate = next(m for m in sent if m.name == "Originate")
    assert originate.get("CallerID") == '"Иван Петров" <100>'
    assert encode_action(originate.fields) == originate.raw + b"\r\n"


def test_invalid_utf8_survives() -> None:
    (msg,) = parse(b"Event: X\r\nName: \xff\xfe ok\r\n\r\n", expect_banner=False)
    assert isinstance(msg, Message)
    assert msg.to_wire() == b"Event: X\r\nName: \xff\xfe ok\r\n\r\n"
    assert encode_action(msg.fields) == msg.raw + b"\r\n"


def test_five_thousand_byte_line_from_ajam_post() -> None:
    response = read_http_fixture("rawman_huge_query")[4].parsed_response()
    assert response is not None
    items = parse(response.body, expect_banner=False)
    event = only(items, ("Event", "UserEvent"))
    assert event.get("UserEvent") == "HugePost"
    assert len(event.get("text") or "") == 5000


def test_injected_action_is_discarded_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.ami.codec"):
        items = parse(ami_recv("crlf_userevent_from_ajam"))
    assert items[-1] == Discarded(
        "action from Asterisk", len(b"Action: Logoff\r\n"), "Action: Logoff"
    )
    event = items[-2]
    assert isinstance(event, Message)
    assert event.kind == "event"
    assert event.fields[-1] == ("Action", "Ping")
    assert "Action: Logoff" in caplog.text
    assert not [m for m in messages(items) if m.kind == "action"]


@pytest.mark.parametrize("case", ami_cases())
def test_sent_fixture_re_encodes_byte_identically(case: str) -> None:
    data = ami_sent(case)
    actions = messages(parse(data, expect_banner=False, accept_actions=True))
    assert actions
    assert all(action.kind == "action" for action in actions)
    encoded = []
    for action in actions:
        if case == "overlong_line" and action.name == "UserEvent":
            with pytest.raises(RequestTooLarge):
                encode_action(action.fields)
            encoded.append(action.raw + b"\r\n")
        else:
            encoded.append(encode_action(action.fields))
    assert b"".join(encoded) == data


def test_sent_actions_are_discarded_on_the_client_side() -> None:
    items = parse(ami_sent("ping"), expect_banner=False)
    assert [type(item) for item in items] == [Discarded, Discarded]


@pytest.mark.parametrize("case", ["listcommands", "hangup_regex_list", "utf8_callerid"])
def test_bare_lf(case: str) -> None:
    data = ami_recv(case)
    crlf = messages(parse(data))
    lf = messages(parse(data.replace(b"\r\n", b"\n")))
    assert lf == crlf
    assert all(m.raw == b"" for m in lf)
    assert lf == messages(parse_chunked(data.replace(b"\r\n", b"\n"), [1] * 5000))


def test_one_bare_lf_line_drops_raw() -> None:
    items = parse(b"Event: A\r\nB: c\nD: e\r\n\r\nEvent: F\r\n\n", expect_banner=False)
    assert messages(items) == [
        Message.of(("Event", "A"), ("B", "c"), ("D", "e")),
        Message.of(("Event", "F")),
    ]
    assert [m.raw for m in messages(items)] == [b"", b""]


def test_blank_lines_between_messages_skipped() -> None:
    items = parse(b"\r\n\r\nEvent: A\r\n\r\n\r\n\nEvent: B\r\n\r\n", expect_banner=False)
    assert items == [Message.of(("Event", "A")), Message.of(("Event", "B"))]


def test_line_without_colon_is_opaque() -> None:
    (msg,) = parse(b"Event: A\r\nno colon here\r\n\r\n", expect_banner=False)
    assert isinstance(msg, Message)
    assert msg.fields[1] == (OPAQUE, "no colon here")


def test_follows_fixture() -> None:
    data = FOLLOWS.read_bytes()
    items = parse(data)
    assert items == parse_chunked(data, [1] * len(data))
    assert parse(data + PARTIAL) == items
    assert items[0] == Banner("Asterisk Call Manager/2.10.6")
    follows = [m for m in messages(items) if m.name == "Follows"]
    assert [m.get("ActionID") for m in follows] == [
        "cmd-ver",
        "cmd-uptime",
        None,
        "cmd-nonl",
        "cmd-empty",
    ]
    assert follows[1].fields == (
        ("Response", "Follows"),
        ("Privilege", "Command"),
        ("ActionID", "cmd-uptime"),
        (OPAQUE, "System uptime: 4 minutes, 2 seconds"),
        (OPAQUE, "Last reload: 4 minutes, 2 seconds"),
    )
    body = [value for name, value in follows[2] if name == OPAQUE]
    assert body[3] == ""
    assert body[4] == "-= 1 extension (2 priorities) in 1 context. =-"
    assert len(body) == 5
    assert follows[3].fields[-1] == (
        OPAQUE,
        "No such command 'foo bar baz' (type 'core show help foo bar' for other possible commands)",
    )
    assert follows[4].fields == (
        ("Response", "Follows"),
        ("Privilege", "Command"),
        ("ActionID", "cmd-empty"),
    )
    assert follows[4].raw + b"\r\n" in data
    assert follows[0].raw == b""
    assert messages(items)[-1].get("Ping") == "Pong"


def test_follows_blank_line_right_after_headers_is_output() -> None:
    data = b"Response: Follows\r\nPrivilege: Command\r\n\nActionID: late\n--END COMMAND--\r\n\r\n"
    (msg,) = parse(data, expect_banner=False)
    assert isinstance(msg, Message)
    assert msg.fields[2:] == ((OPAQUE, ""), (OPAQUE, "ActionID: late"))


def test_line_too_long_discards_message_and_resyncs() -> None:
    long = b"Data: " + b"x" * 200 + b"\r\n"
    data = b"Event: A\r\n" + long + b"More: y\r\n\r\nEvent: B\r\n\r\n"
    for sizes in ([len(data)], [1] * len(data), [7, 100, 3]):
        items = parse_chunked(data, sizes, expect_banner=False, max_line=100)
        assert items == [
            Discarded("line too long", len(data) - len(b"Event: B\r\n\r\n"), "Event: A"),
            Message.of(("Event", "B")),
        ]


def test_line_at_the_limit_passes() -> None:
    line = b"Event: " + b"x" * 93
    assert len(line) == 100
    parser = Parser(expect_banner=False, max_line=100)
    assert parser.feed(line + b"\r\n\r\n") == [Message.of(("Event", decode(line[7:])))]
    assert parser.feed(line + b"x\r\n\r\n")[0] == Discarded("line too long", 105, decode(line[:80]))


def test_message_too_long_discarded() -> None:
    body = b"".join(b"Line%d: %s\r\n" % (i, b"v" * 90) for i in range(20))
    data = b"Event: Big\r\n" + body + b"\r\nEvent: Next\r\n\r\n"
    parser = Parser(expect_banner=False, max_message=1000)
    items = parser.feed(data)
    assert items[0] == Discarded(
        "message too long", len(b"Event: Big\r\n" + body + b"\r\n"), "Event: Big"
    )
    assert items[1:] == [Message.of(("Event", "Next"))]


def test_banner_too_long_discarded_alone() -> None:
    data = b"A" * 300 + b"\r\nEvent: B\r\n\r\n"
    for sizes in ([len(data)], [1] * len(data)):
        items = parse_chunked(data, sizes, max_line=100)
        assert items == [Discarded("line too long", 302, "A" * 80), Message.of(("Event", "B"))]


def test_memory_stays_bounded_by_the_limits() -> None:
    chunk = b"y" * 65536
    parser = Parser(expect_banner=False)
    parser.feed(b"Event: Flood\r\nData: ")
    tracemalloc.start()
    try:
        for _ in range(64):  # 4 MiB in one line, then 4 MiB of short lines
            assert parser.feed(chunk) == []
        for _ in range(64):
            assert parser.feed(b"Line: 1\r\n" * 7281) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * 1024 * 1024
    (dropped, msg) = parser.feed(b"\r\nEvent: After\r\n\r\n")
    size = len(b"Event: Flood\r\nData: ") + 64 * 65536 + 64 * 7281 * 9 + 2
    assert dropped == Discarded("line too long", size, "Event: Flood")
    assert msg == Message.of(("Event", "After"))


# encode_action ------------------------------------------------------------------


def test_encode_action_wire_format() -> None:
    fields = [("Action", "UserEvent"), ("Key With Space", "a: b"), ("Empty", "")]
    assert encode_action(fields) == b"Action: UserEvent\r\nKey With Space: a: b\r\nEmpty: \r\n\r\n"


@pytest.mark.parametrize(
    "field",
    [
        ("Action", "Ping\r\nAction: Logoff"),
        ("Action", "Ping\n"),
        ("Action", "Ping\r"),
        ("Action", "Ping\0"),
        ("Act\nion", "Ping"),
        ("Act\0", "Ping"),
        ("Act:ion", "Ping"),
        ("", "Ping"),
        ("Action", "\ud800"),
    ],
)
def test_encode_action_refuses_bad_characters(field: tuple[str, str]) -> None:
    with pytest.raises(InvalidCharacter):
        encode_action([field])
    with pytest.raises(InvalidCharacter):
        validate_action([field])


def test_encode_action_line_count_limit() -> None:
    fields = [("Action", "UserEvent")] + [(f"H{i}", "x") for i in range(MAX_ACTION_LINES - 1)]
    assert encode_action(fields).count(b"\r\n") == MAX_ACTION_LINES + 1
    with pytest.raises(RequestTooLarge):
        encode_action([*fields, ("One", "more")])


def test_encode_action_line_length_limit() -> None:
    fits = "v" * (MAX_ACTION_LINE - len("Data: \r\n"))
    assert len(encode_action([("Data", fits)])) == MAX_ACTION_LINE + 2
    with pytest.raises(RequestTooLarge):
        validate_action([("Data", fits + "v")])
    with pytest.raises(RequestTooLarge):  # counted in bytes, not characters
        encode_action([("Data", "Ж" * (len(fits) // 2 + 1))])


def test_validate_action_counts_bytes_like_the_encoder() -> None:
    fits = "v" * (MAX_ACTION_LINE - len("Data: \r\n"))
    validate_action([("Data", fits)])  # the ASCII shortcut: exactly at the limit
    wide = "Ж" * (len(fits) // 2)
    validate_action([("Data", wide)])
    with pytest.raises(RequestTooLarge):  # the same characters, one more: over
        validate_action([("Data", wide + "Ж")])


def test_invalid_character_wins_over_size() -> None:
    with pytest.raises(InvalidCharacter):
        encode_action([("Data", "x\r")] * (MAX_ACTION_LINES + 1))


_names = st.text(
    st.characters(blacklist_characters=":\r\n\0", blacklist_categories=["Cs"]),
    min_size=1,
    max_size=20,
)
_values = st.text(
    st.characters(blacklist_characters="\r\n\0", blacklist_categories=["Cs"]), max_size=60
).filter(lambda v: not v.startswith(" "))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_names, _values), min_size=1, max_size=10))
def test_encode_then_parse_round_trips(fields: list[tuple[str, str]]) -> None:
    fields = [("Event", "X"), *fields]
    (msg,) = Parser(expect_banner=False).feed(encode_action(fields))
    assert isinstance(msg, Message)
    assert msg.fields == tuple(fields)
    assert msg.to_wire() == encode_action(fields)
    assert encode_checked(fields) == encode_action(fields)  # the client's unchecked path


def test_long_line_inside_a_discarded_message_is_only_counted() -> None:
    body = b"".join(b"Line%d: %s\r\n" % (i, b"v" * 90) for i in range(20))
    long = b"Data: " + b"z" * 5000 + b"\r\n"
    data = b"Event: Big\r\n" + body + long + b"\r\nEvent: Next\r\n\r\n"
    for sizes in ([len(data)], [1] * len(data)):
        items = parse_chunked(data, sizes, expect_banner=False, max_line=1000, max_message=1000)
        size = len(data) - len(b"Event: Next\r\n\r\n")
        assert items == [
            Discarded("message too long", size, "Event: Big"),
            Message.of(("Event", "Next")),
        ]
