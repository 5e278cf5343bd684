"""The AMI door's sans-I/O wire: fed whole, byte by byte and with trailing
data; answers, errors, events and the closing phase."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.ami.message import OPAQUE, Message
from gateway.amiserver.accesslog import MAX_LOGGED, action_text
from gateway.amiserver.protocol import Phase, Refused, Request, Run, ServerProtocol
from gateway.core.events import EventLog
from gateway.core.replies import Reply, response
from gateway.errors import (
    AuthenticationFailed,
    GatewayError,
    NotConnected,
    PermissionDenied,
    ShuttingDown,
    TooManySessions,
)
from tests.support.fixturedata import ami_sent

Feed = Callable[[ServerProtocol, bytes], list[Request]]


def whole(protocol: ServerProtocol, data: bytes) -> list[Request]:
    return protocol.feed(data)


def bytewise(protocol: ServerProtocol, data: bytes) -> list[Request]:
    return [request for byte in data for request in protocol.feed(bytes([byte]))]


FEEDS: list[Feed] = [whole, bytewise]


@pytest.mark.parametrize("feed", FEEDS)
def test_a_captured_client_session_becomes_its_actions(feed: Feed) -> None:
    requests = feed(ServerProtocol(), ami_sent("permission_denied_reader"))
    assert [(type(r), r.fields[0][1], r.fields[1][1]) for r in requests] == [
        (Run, "Login", "login-reader"),
        (Run, "Originate", "pd-orig"),
        (Run, "Command", "pd-cmd"),
        (Run, "Ping", "pd-ping"),
    ]


@pytest.mark.parametrize("feed", FEEDS)
def test_trailing_data_waits_for_its_blank_line(feed: Feed) -> None:
    protocol = ServerProtocol()
    (run,) = feed(protocol, b"Action: Ping\r\nActionID: a\r\n\r\nAction: Ping\r\nActionI")
    assert isinstance(run, Run)
    assert (run.action, run.action_id) == ("Ping", "a")
    (rest,) = feed(protocol, b"D: b\r\n\r\n")
    assert isinstance(rest, Run)
    assert rest.action_id == "b"


def test_refused_messages_are_answered_here_with_their_action_id() -> None:
    data = (
        b"Action: Ping\r\nActionID: cr\r\nX: a\rb\r\n\r\n"
        b"Action: Ping\r\nActionID: long\r\nX: " + b"y" * 2000 + b"\r\n\r\n"
        b"\r\n"
    )
    refused_cr, refused_long, empty = ServerProtocol().feed(data)
    assert isinstance(refused_cr, Refused)
    assert refused_cr.answer == (
        b"Response: Error\r\nActionID: cr\r\nMessage: Invalid character in request\r\n\r\n"
    )
    assert isinstance(refused_long, Refused)
    assert refused_long.answer == (
        b"Response: Error\r\nActionID: long\r\n"
        b"Message: Failed to parse message: line too long\r\n\r\n"
    )
    assert isinstance(empty, Run)  # the dispatcher answers Missing action in request
    assert empty.fields == []


def test_answers_are_head_events_tail_and_a_goodbye_closes() -> None:
    protocol = ServerProtocol()
    log = EventLog(10)
    event = log.append(Message.of(("Event", "E"), ("Privilege", "call,all")))
    reply = Reply((response("Success", "w"),), (event,), (Message.of(("Event", "Done")),))
    assert protocol.answer(reply) == (
        b"Response: Success\r\nActionID: w\r\n\r\n"
        b"Event: E\r\nPrivilege: call,all\r\n\r\n"
        b"Event: Done\r\n\r\n"
    )
    assert protocol.phase.name == "OPEN"
    goodbye = Reply((response("Goodbye", None, ("Message", "Thanks for all the fish.")),))
    assert protocol.answer(goodbye) == (
        b"Response: Goodbye\r\nMessage: Thanks for all the fish.\r\n\r\n"
    )
    assert protocol.phase is Phase.CLOSING
    assert protocol.feed(b"Action: Ping\r\n\r\n") == []  # nothing is read any more


@pytest.mark.parametrize(
    ("error", "closes"),
    [
        (PermissionDenied(), False),
        (NotConnected(), False),
        (AuthenticationFailed(), True),
        (TooManySessions(), True),
        (ShuttingDown(), True),
    ],
)
def test_errors_meet_the_wire_here_and_a_refused_login_closes(
    error: Exception, closes: bool
) -> None:
    protocol = ServerProtocol()
    assert isinstance(error, GatewayError)
    data = protocol.error(error, [("Action", "X"), ("ActionID", "e1")])
    assert data == f"Response: Error\r\nActionID: e1\r\nMessage: {error.message}\r\n\r\n".encode()
    assert (protocol.phase is Phase.CLOSING) is closes


def test_an_action_id_with_a_line_break_is_not_repeated() -> None:
    data = ServerProtocol().error(PermissionDenied(), [("ActionID", "x\r\nEvent: Forged")])
    assert data == b"Response: Error\r\nMessage: Permission denied\r\n\r\n"


def test_events_are_the_upstream_bytes_a_gap_comes_first_and_shutdown_stays_home() -> None:
    log = EventLog(10)
    raw = b"Event: Newchannel\r\nPrivilege: call,all\r\nChannel:   spaced\r\n"
    kept = log.append(Message((("Event", "Newchannel"),), raw))
    shutdown = log.append(
        Message.of(("Event", "Shutdown"), ("Privilege", "system,all"), ("Restart", "True"))
    )
    data, skipped = ServerProtocol.events(3, [kept, shutdown])
    assert data == (
        b"Event: GatewayEventsLost\r\nPrivilege: system,all\r\nLost: 3\r\nReason: Overrun\r\n\r\n"
        + raw
        + b"\r\n"
    )
    assert skipped == 1
    assert ServerProtocol.events(0, []) == (b"", 0)


def test_the_drain_says_shutdown_as_asterisk_does_on_a_stop() -> None:
    protocol = ServerProtocol()
    assert protocol.shutdown() == (
        b"Event: Shutdown\r\nPrivilege: system,all\r\nShutdown: Cleanly\r\nRestart: False\r\n\r\n"
    )
    assert protocol.phase is Phase.CLOSING


def test_the_banner_is_one_line() -> None:
    assert ServerProtocol.banner("Asterisk Call Manager/11.0.0") == (
        b"Asterisk Call Manager/11.0.0\r\n"
    )


def test_the_access_lines_text_redacts_and_cuts() -> None:
    text = action_text(
        [("Action", "Login"), (" secret", "s3"), ("KEY", "k"), (OPAQUE, "bare"), ("X", "y")]
    )
    assert text == "Action=Login& secret=***&KEY=***&bare&X=y"
    long = action_text([("Data", "z" * 5000)])
    assert len(long) == MAX_LOGGED + 3
    assert long.endswith("...")
