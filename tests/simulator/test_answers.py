"""Response and list builders, checked against captured bytes."""

from __future__ import annotations

from gateway.ami.message import Message
from gateway.simulator.answers import ack, action_id, error, event_list, item, response, success
from tests.support.fixturedata import ami_recv


def _after_login(case: str) -> bytes:
    data = ami_recv(case)
    return data[data.index(b"SessionTV") :].split(b"\r\n\r\n", 1)[1]


def _wire(messages: tuple[Message, ...]) -> bytes:
    return b"".join(m.to_wire() for m in messages)


def test_action_id_comes_right_after_the_response_line() -> None:
    action = Message.of(("action", "PING"), ("actionid", "lc-1"))
    assert response(action, "Success", ("Ping", "Pong")).fields[:2] == (
        ("Response", "Success"),
        ("ActionID", "lc-1"),
    )
    assert action_id(action) == "lc-1"


def test_an_empty_or_missing_action_id_is_left_out() -> None:
    for action in (
        Message.of(("Action", "Ping")),
        Message.of(("Action", "Ping"), ("ActionID", "")),
    ):
        assert error(action, "Permission denied").messages[0].fields == (
            ("Response", "Error"),
            ("Message", "Permission denied"),
        )


def test_error_is_the_captured_bytes() -> None:
    action = Message.of(("Action", "Command"), ("ActionID", "pd-cmd"))
    expected = b"Response: Error\r\nActionID: pd-cmd\r\nMessage: Permission denied\r\n\r\n"
    assert _wire(error(action, "Permission denied").messages) == expected


def test_event_list_is_the_captured_empty_coreshowchannels() -> None:
    action = Message.of(("Action", "CoreShowChannels"), ("ActionID", "csc-empty-1"))
    reply = event_list(action, "Channels will follow", [], "CoreShowChannelsComplete")
    assert _wire(reply.messages) == _after_login("coreshowchannels_empty")
    assert not reply.close


def test_event_list_counts_items_and_adds_extra_fields() -> None:
    action = Message.of(("Action", "Status"))
    items = [item("Status", action, [("Channel", "a")]), item("Status", action, [("Channel", "b")])]
    reply = event_list(
        action, "Channel status will follow", items, "StatusComplete", ("Items", "2")
    )
    assert reply.messages[-1].fields == (
        ("Event", "StatusComplete"),
        ("EventList", "Complete"),
        ("ListItems", "2"),
        ("Items", "2"),
    )
    assert len(reply.messages) == 4


def test_ack_and_success() -> None:
    action = Message.of(("Action", "Setvar"), ("ActionID", "sv-1"))
    assert ack(action, "Variable Set").messages[0].get("Message") == "Variable Set"
    assert success(action, ("Value", "5")).messages[0].fields[-1] == ("Value", "5")
