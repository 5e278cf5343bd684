"""How the simulated Asterisk answers an action: responses and list answers.

Asterisk puts ``ActionID`` right after the ``Response`` line, and leaves it
out when the action had none (or an empty one).  List items carry it right
after their ``Event`` line, except where the captures show it last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gateway.ami.message import Field, Message
from gateway.simulator.channels import Fields


@dataclass(frozen=True, slots=True)
class Answer:
    """What the session writes when the action is done, then whether it hangs up."""

    messages: tuple[Message, ...] = ()
    close: bool = False


def action_id(action: Message) -> str:
    return action.get("ActionID") or ""


def id_field(action: Message) -> Fields:
    value = action_id(action)
    return (("ActionID", value),) if value else ()


def response(action: Message, status: str, *fields: Field) -> Message:
    return Message((("Response", status), *id_field(action), *fields))


def ack(action: Message, message: str) -> Answer:
    return Answer((response(action, "Success", ("Message", message)),))


def error(action: Message, message: str) -> Answer:
    return Answer((response(action, "Error", ("Message", message)),))


def success(action: Message, *fields: Field) -> Answer:
    return Answer((response(action, "Success", *fields),))


def item(name: str, action: Message, fields: Iterable[Field]) -> Message:
    """A list item with the ActionID right after its Event line."""
    return Message((("Event", name), *id_field(action), *fields))


def event_list(
    action: Message, message: str, items: Sequence[Message], complete: str, *extra: Field
) -> Answer:
    """``EventList: start``, the items, then the ``...Complete`` event."""
    start = response(action, "Success", ("EventList", "start"), ("Message", message))
    count = ("ListItems", str(len(items)))
    done = item(complete, action, (("EventList", "Complete"), count, *extra))
    return Answer((start, *items, done))
