"""What a logged-in session may do: the user's identity, fixed at login.

``Accounts`` makes an ``Identity`` from a user's settings; the session keeps
it (``gateway.core.sessions``) and every action and event is checked against
it.  ``EventPredicate`` is what an event filter looks like from outside.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from gateway.ami.message import Message


class EventPredicate(Protocol):
    """A compiled event filter (the user's eventfilter, a session Filter)."""

    def matches(self, text: str, message: Message) -> bool: ...


class OriginateResponses(enum.Enum):
    """Whose async Originate results a user's sessions receive
    (``[users.NAME] originate_response``)."""

    ALL = "all"
    """Every one it may read (``call``, its mask and filters), each with its
    originator's ActionID: what Asterisk sends every session."""
    OWNER = "owner"
    """Only those of Originates the session itself sent."""


@dataclass(frozen=True, slots=True)
class Identity:
    """What a logged-in session may do, fixed at login."""

    username: str
    read: int
    write: int
    event_filter: EventPredicate | None = None
    originate_response: OriginateResponses = OriginateResponses.ALL
