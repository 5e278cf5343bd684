from __future__ import annotations

from gateway.ami.message import Message, header
from gateway.core.replies import Reply, error_message, response


def test_response_puts_the_action_id_second() -> None:
    assert response("Success", "a1", ("Ping", "Pong")) == Message.of(
        ("Response", "Success"), ("ActionID", "a1"), ("Ping", "Pong")
    )
    assert response("Success", "", ("Ping", "Pong")).fields == (
        ("Response", "Success"),
        ("Ping", "Pong"),
    )


def test_error_message_and_header_lookup() -> None:
    assert error_message("Permission denied", None).to_wire() == (
        b"Response: Error\r\nMessage: Permission denied\r\n\r\n"
    )
    fields = [("action", "Ping"), ("ACTIONID", "x"), ("ActionID", "y")]
    assert header(fields, "ActionID") == "x"
    assert header(fields, "Missing") is None


def test_reply_defaults() -> None:
    reply = Reply((error_message("x", None),))
    assert reply.events == ()
    assert reply.tail == ()
    assert reply.login_session is None
