"""The small vocabulary shared by the action handlers: replies and headers."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gateway.ami.message import Field, Message
from gateway.core.events import StoredEvent


class Door(enum.Enum):
    """The way a client came in: the label of its metrics."""

    HTTP = "http"
    """AJAM over HTTP (``gateway.http``)."""
    AMI = "ami"
    """AMI over TCP, the front door (``gateway.amiserver``)."""


@dataclass(frozen=True, slots=True)
class Peer:
    """Where a request came from and arrived, for security events and ACLs."""

    address: str
    port: int = 0
    local_address: str = "127.0.0.1"
    local_port: int = 0
    door: Door = Door.HTTP


@dataclass(frozen=True, slots=True)
class Reply:
    """Messages to render: head, then shared log events, then tail."""

    head: tuple[Message, ...]
    events: tuple[StoredEvent, ...] = ()
    tail: tuple[Message, ...] = ()
    login_session: str | None = None
    """Set on a successful login: JSON output adds the session id."""


def response(status: str, action_id: str | None, *pairs: Field) -> Message:
    """``Response: <status>``, the ActionID when there is one, then ``pairs``."""
    head: list[Field] = [("Response", status)]
    if action_id:
        head.append(("ActionID", action_id))
    return Message((*head, *pairs))


def error_message(text: str, action_id: str | None) -> Message:
    return response("Error", action_id, ("Message", text))
