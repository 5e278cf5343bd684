"""The correlator, driven by the real captures with their ActionIDs in gateway form."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.ami.correlator import (
    Broadcast,
    Completed,
    Correlator,
    make_action_id,
    split_action_id,
)
from gateway.ami.message import Message, encode
from gateway.errors import ConfigError, InvalidCharacter, RequestTooLarge
from tests.support.fixturedata import ami_cases
from tests.support.replay import BOOT, NODE, all_messages, parsed, replay

FOLLOWS = Path(__file__).parents[1] / "data" / "ami_follows.recv"


@pytest.mark.parametrize("case", ami_cases())
def test_every_capture_comes_back_with_client_action_ids(case: str) -> None:
    run = replay(case)
    expected = run.original
    if case == "overlong_line":  # its action was refused, so the answer is a stray
        expected = [m for m in expected if m.get("ActionID") != "ue-long-1"]
    got = all_messages(run.outcomes)
    assert Counter(got) == Counter(expected)
    raw_of = {m: m.raw for m in expected}
    assert all(m.raw == raw_of[m] for m in got)  # byte-exact for rawman
    assert run.correlator.pending == 0
    assert is_subsequence([b.message for b in run.broadcasts], expected)


def is_subsequence(part: list[Message], whole: list[Message]) -> bool:
    it = iter(whole)
    return all(any(m == w for w in it) for m in part)


def test_ping_completes_with_the_exact_bytes() -> None:
    run = replay("ping")
    (pong,) = run.completed("ping-1")
    assert pong.to_wire() == pong.raw + b"\r\n"
    assert pong.raw.startswith(b"Response: Success\r\nActionID: ping-1\r\nPing: Pong\r\n")
    assert [b.message.name for b in run.broadcasts] == ["FullyBooted", "SuccessfulAuth"]


@pytest.mark.parametrize(
    ("case", "client_id", "items"),
    [
        ("coreshowchannels_empty", "csc-empty-1", 0),
        ("coreshowchannels_two", "csc-two-1", 2),
        ("status_list", "status-1", 2),
        ("queuestatus", "qs-1", 2),
        ("queuesummary", "qsum-1", 1),
        ("hangup_regex_list", "hup-re-1", 4),
    ],
)
def test_lists_are_collected(case: str, client_id: str, items: int) -> None:
    run = replay(case)
    answer = run.completed(client_id)
    assert len(answer) == items + 2
    assert answer[0].name == "Success"
    assert answer[0].get("EventList") == "start"
    assert answer[-1].get("EventList") == "Complete"
    assert answer[-1].get("ListItems") == str(items)
    assert all(m.get("ActionID") == client_id for m in answer)
    assert not [b for b in run.broadcasts if b.message.get("ActionID") == client_id]


def test_hangup_regex_list_then_the_real_hangups() -> None:
    run = replay("hangup_regex_list", owner="sess-a")
    answer = run.completed("hup-re-1")
    assert [m.name for m in answer[1:-1]] == ["ChannelHungup"] * 4
    results = [b for b in run.broadcasts if b.message.name == "OriginateResponse"]
    assert [(b.message.get("ActionID"), b.owner) for b in results] == [
        ("orig-600-a", "sess-a"),
        ("orig-600-b", "sess-a"),
    ]
    hangups = [b for b in run.broadcasts if b.message.name == "Hangup"]
    assert len(hangups) == 4
    assert all(b.owner is None for b in hangups)


@pytest.mark.parametrize(
    ("case", "client_id", "message"),
    [
        ("permission_denied_reader", "pd-orig", "Permission denied"),
        ("unknown_action", "unk-1", None),
        ("getvar_setvar", "gv-4", "No such channel"),
        ("login_fail", "login-bad-1", "Authentication failed"),
    ],
)
def test_errors_complete_at_once(case: str, client_id: str, message: str | None) -> None:
    run = replay(case, sync=frozenset({client_id}))
    (error,) = run.completed(client_id)
    assert error.name == "Error"
    assert error.get("ActionID") == client_id
    if message is not None:
        assert error.get("Message") == message


def test_modern_command_output_passes_unchanged() -> None:
    run = replay("command_multiline")
    (answer,) = run.completed("cmd-multi-1")
    original = next(m for m in run.original if m.get("ActionID") == "cmd-multi-1")
    assert answer == original
    assert answer.raw == original.raw
    assert b"Output:   Action                          Synopsis\r\n" in answer.to_wire()


def test_command_error_keeps_asterisk_message() -> None:
    (answer,) = replay("command_error").completed("cmd-err-1")
    assert answer.name == "Error"
    assert answer.get("Message") == "Command output follows"
    assert (answer.get("Output") or "").startswith("No such command 'foo bar baz'")


def test_old_follows_is_normalised() -> None:
    correlator = Correlator(NODE, BOOT)
    wire_ids = {}
    for client_id in ("cmd-ver", "cmd-uptime", "cmd-nonl", "cmd-empty", ""):
        gateway_id, wire = correlator.prepare(
            [("Action", "Command"), ("ActionID", client_id), ("Command", "x")]
        )
        wire_ids[client_id] = (gateway_id, Message(wire).get("ActionID") or "")
    data = FOLLOWS.read_bytes()
    for client_id, (_, wire_id) in wire_ids.items():
        if client_id:
            data = data.replace(
                f"ActionID: {client_id}\r\n".encode(), f"ActionID: {wire_id}\r\n".encode()
            )
    no_id = b"Response: Follows\r\nPrivilege: Command\r\n["
    data = data.replace(no_id, no_id[:-1] + f"ActionID: {wire_ids[''][1]}\r\n[".encode())
    outcomes = [o for m in parsed(data) for o in correlator.feed(m)]
    answers = {o.gateway_id: o.messages for o in outcomes if isinstance(o, Completed)}
    (uptime,) = answers[wire_ids["cmd-uptime"][0]]
    assert uptime.to_wire() == (
        b"Response: Success\r\nActionID: cmd-uptime\r\nMessage: Command output follows\r\n"
        b"Output: System uptime: 4 minutes, 2 seconds\r\n"
        b"Output: Last reload: 4 minutes, 2 seconds\r\n\r\n"
    )
    (dialplan,) = answers[wire_ids[""][0]]
    assert dialplan.fields[:2] == (("Response", "Success"), ("Message", "Command output follows"))
    assert dialplan.get_all("Output")[1].startswith("  '100' =>")
    assert dialplan.get_all("Output")[3] == ""
    (empty,) = answers[wire_ids["cmd-empty"][0]]
    assert empty.get_all("Output") == []
    (nonl,) = answers[wire_ids["cmd-nonl"][0]]
    assert nonl.get_all("Output") == [
        "No such command 'foo bar baz' (type 'core show help foo bar' for other possible commands)"
    ]
    assert correlator.pending == 0


# ActionIDs -----------------------------------------------------------------------


def test_prepare_replaces_or_inserts_the_action_id() -> None:
    correlator = Correlator("", "abc")
    gateway_id, wire = correlator.prepare([("action", "Ping"), ("actionid", "mine|x")])
    assert gateway_id == ".abc.1"
    assert wire == (("action", "Ping"), ("actionid", ".abc.1|mine|x"))
    assert split_action_id(wire[1][1]) == (".abc.1", "mine|x")
    _, wire = correlator.prepare([("Channel", "x"), ("Action", "Hangup"), ("Cause", "16")])
    assert wire == (
        ("Channel", "x"),
        ("Action", "Hangup"),
        ("ActionID", ".abc.2|"),
        ("Cause", "16"),
    )
    _, wire = correlator.prepare(
        [("Action", "Ping"), ("ActionID", "a"), ("X", "1"), ("ActionID", "b")]
    )
    assert wire == (("Action", "Ping"), ("ActionID", ".abc.3|a"), ("X", "1"))
    assert correlator.pending == 3


def test_empty_client_action_id_is_none() -> None:
    correlator = Correlator(NODE, BOOT)
    gateway_id, wire = correlator.prepare([("Action", "Ping"), ("ActionID", "")])
    assert Message(wire).get("ActionID") == f"{gateway_id}|"
    data = f"Response: Success\r\nActionID: {gateway_id}|\r\nPing: Pong\r\n\r\n".encode()
    (done,) = correlator.feed(parsed(data, banner=False)[0])
    assert isinstance(done, Completed)
    assert done.messages[0].to_wire() == b"Response: Success\r\nPing: Pong\r\n\r\n"
    assert done.messages[0].raw == b"Response: Success\r\nPing: Pong\r\n"


def test_prepare_refuses_what_cannot_be_sent() -> None:
    correlator = Correlator(NODE, BOOT)
    with pytest.raises(InvalidCharacter):
        correlator.prepare([("Action", "Ping"), ("ActionID", "x\r\nAction: Logoff")])
    with pytest.raises(RequestTooLarge):
        correlator.prepare([("Action", "Ping"), ("ActionID", "x" * 1013)])
    assert correlator.pending == 0


def test_gateway_ids_are_unique() -> None:
    correlator = Correlator(NODE, BOOT)
    ids = {correlator.prepare([("Action", "Ping")])[0] for _ in range(1000)}
    assert len(ids) == 1000


@pytest.mark.parametrize(
    "value", ["login-1", "a|b", "N1.x.1|y", "n1.b.x|y", "n1.b|y", "toolongnode.b.1|y", ""]
)
def test_split_refuses_other_forms(value: str) -> None:
    assert split_action_id(value) is None


@given(
    node=st.from_regex(r"[a-z0-9]{0,8}", fullmatch=True),
    boot=st.from_regex(r"[a-z0-9]{1,16}", fullmatch=True),
    counter=st.integers(min_value=0),
    client_id=st.none() | st.text(),
)
def test_make_then_split(node: str, boot: str, counter: int, client_id: str | None) -> None:
    assert split_action_id(make_action_id(node, boot, counter, client_id)) == (
        f"{node}.{boot}.{counter}",
        client_id or None,
    )


@pytest.mark.parametrize(
    ("node", "boot"), [("UPPER", "b"), ("n", ""), ("n", "a.b"), ("123456789", "b")]
)
def test_bad_node_or_boot(node: str, boot: str) -> None:
    with pytest.raises(ConfigError):
        Correlator(node, boot)


# Failure, cancellation, strays -----------------------------------------------------


def test_fail_all_completes_everything_pending() -> None:
    correlator = Correlator(NODE, BOOT)
    ping, _ = correlator.prepare([("Action", "Ping"), ("ActionID", "p")])
    plain, _ = correlator.prepare([("Action", "Ping")])
    listing, _ = correlator.prepare([("Action", "Status"), ("ActionID", "st")])
    start = Message.of(
        ("Response", "Success"), ("ActionID", f"{listing}|st"), ("EventList", "start")
    )
    assert correlator.feed(start) == []
    failed = correlator.fail_all("Asterisk is not connected")
    assert [(c.gateway_id, [m.to_wire() for m in c.messages]) for c in failed] == [
        (ping, [b"Response: Error\r\nActionID: p\r\nMessage: Asterisk is not connected\r\n\r\n"]),
        (plain, [b"Response: Error\r\nMessage: Asterisk is not connected\r\n\r\n"]),
        (
            listing,
            [b"Response: Error\r\nActionID: st\r\nMessage: Asterisk is not connected\r\n\r\n"],
        ),
    ]
    assert correlator.pending == 0
    assert correlator.fail_all("again") == []
    assert correlator.feed(Message.of(("Response", "Success"), ("ActionID", f"{ping}|p"))) == []


def test_cancelled_list_items_are_dropped() -> None:
    run = replay("status_list")
    correlator = Correlator(NODE, BOOT)
    gateway_id, wire = correlator.prepare([("Action", "Status"), ("ActionID", "status-1")])
    wire_id = Message(wire).get("ActionID") or ""
    answer = run.completed("status-1")
    correlator.feed(answer[0].replace("ActionID", wire_id))
    correlator.cancel(gateway_id)
    correlator.cancel(gateway_id)  # harmless twice
    correlator.cancel("n1.b00t.999")  # and for an unknown id
    assert correlator.pending == 0
    for item in answer[1:]:
        assert correlator.feed(item.replace("ActionID", wire_id)) == []


def test_cancelled_sync_originate_result_reaches_its_owner_alone() -> None:
    correlator = Correlator(NODE, BOOT)
    gateway_id, _ = correlator.prepare(
        [("Action", "Originate"), ("ActionID", "o")], owner="sess-b", sync_originate=True
    )
    assert (
        correlator.feed(Message.of(("Response", "Success"), ("ActionID", f"{gateway_id}|o"))) == []
    )
    assert correlator.pending == 1
    correlator.cancel(gateway_id)
    result = Message.of(
        ("Event", "OriginateResponse"), ("ActionID", f"{gateway_id}|o"), ("Response", "Success")
    )
    assert correlator.feed(result) == [
        Broadcast(result.replace("ActionID", "o"), "sess-b", private=True)
    ]


def test_strays() -> None:
    correlator = Correlator(NODE, BOOT)
    event = parsed(b"Event: Custom\r\nActionID: someone-else\r\n\r\n", banner=False)[0]
    (outcome,) = correlator.feed(event)
    assert outcome == Broadcast(event, None)
    assert outcome.message.raw == event.raw
    no_id = Message.of(("Event", "Newchannel"))
    assert correlator.feed(no_id) == [Broadcast(no_id, None)]
    assert correlator.feed(Message.of(("Response", "Success"))) == []
    assert correlator.feed(Message.of(("Response", "Success"), ("ActionID", "x"))) == []
    assert correlator.feed(Message.of(("Response", "Success"), ("ActionID", "n1.b00t.7|x"))) == []
    assert correlator.feed(Message.of(("Weird", "1"), ("ActionID", "n1.b00t.7|x"))) == []
    assert correlator.feed(Message.of(("Weird", "1"))) == []
    gateway_id, _ = correlator.prepare([("Action", "Ping")])
    before = Message.of(("Event", "X"), ("ActionID", f"{gateway_id}|"))
    assert correlator.feed(before) == [Broadcast(Message.of(("Event", "X")), None)]
    assert correlator.pending == 1


# Asterisk formats some answers' ActionID into a 150-byte buffer (manager.c
# action_coresettings and action_corestatus: idText[150], "ActionID: %s\r\n"):
# an id over 137 bytes loses its end and the CRLF, and the next header is
# merged into the line.  The gateway's own prefix must not bring a client's
# id that Asterisk answers whole over that edge.
LONGEST_WHOLE = 137


def coresettings_answer(wire_id: str) -> bytes:
    """CoreSettings' answer as Asterisk writes it for ``wire_id``."""
    line = encode(f"ActionID: {wire_id}\r\n")
    if len(line) > 149:
        line = line[:149]  # snprintf into char[150]
    rest = b"AMIversion: 11.0.0\r\nAsteriskVersion: 22.10.1\r\n\r\n"
    return b"Response: Success\r\n" + line + rest


@pytest.mark.parametrize(
    "client_id", ["i", "i" * 100, "i" * 116, "i" * 137, "i" * 500, "i" * 1010, "\udcff" * 130]
)
def test_a_long_client_action_id_comes_back_whole(client_id: str) -> None:
    # (a byte that is not UTF-8 survives parsing as a lone surrogate)
    correlator = Correlator(NODE, BOOT)
    gateway_id, wire = correlator.prepare([("Action", "CoreSettings"), ("ActionID", client_id)])
    (wire_id,) = [value for name, value in wire if name == "ActionID"]
    assert len(encode(wire_id)) <= LONGEST_WHOLE
    assert wire_id.startswith(gateway_id)
    (message,) = parsed(coresettings_answer(wire_id), banner=False)
    (done,) = correlator.feed(message)
    assert isinstance(done, Completed)
    (answer,) = done.messages
    assert answer.get("ActionID") == client_id
    assert answer.get("AMIversion") == "11.0.0"
    assert correlator.pending == 0


def test_a_client_action_id_asterisk_would_not_read_is_refused() -> None:
    correlator = Correlator(NODE, BOOT)
    with pytest.raises(RequestTooLarge):  # 10 + 1013 + CRLF: over Asterisk's 1024
        correlator.prepare([("Action", "Ping"), ("ActionID", "x" * 1013)])
    assert correlator.pending == 0


def test_an_action_the_inserted_action_id_would_push_past_128_lines_is_refused() -> None:
    # Asterisk keeps 128 lines: the 129th, the client's last, would be lost.
    correlator = Correlator(NODE, BOOT)
    fields = [("Action", "UserEvent"), *((f"H{n}", "x") for n in range(127))]
    with pytest.raises(RequestTooLarge):
        correlator.prepare(fields)
    assert correlator.pending == 0
