"""The AMI event path: where every event read from Asterisk goes, in order.

The AMI client hands each event, and each change of its link, to one
``AmiEventPath``.  For an event it

1. updates what the gateway knows of Asterisk (``AmiFacts``: FullyBooted),
2. appends it to the shared ``EventLog``, where every session reads it (and
   whose listeners wake the held polls),
3. tells each subscriber, in the order they subscribed: the metrics, the
   call history's recorder (the AMI door, like HTTP sessions, reads the
   log by cursor and needs no subscription).

A change of the link becomes the gateway's own ``GatewayAMIUp`` or
``GatewayAMIDown`` event in the log, so that sessions learn of it.
Subscribers must be quick and must not block: they run on the AMI client's
read loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.ami.correlator import Broadcast
from gateway.ami.message import Message
from gateway.core.events import EventLog
from gateway.core.facts import AmiFacts

Subscriber = Callable[[Message], None]
"""Told of every AMI event once it is in the log."""


def link_event(up: bool, reason: str) -> Message:
    """The gateway's own event for the AMI link coming up or going down."""
    if up:
        return Message.of(("Event", "GatewayAMIUp"), ("Privilege", "system,all"))
    return Message.of(("Event", "GatewayAMIDown"), ("Privilege", "system,all"), ("Reason", reason))


class AmiEventPath:
    """Receives every AMI event: facts, then the log, then the subscribers."""

    def __init__(
        self, log: EventLog, facts: AmiFacts, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._log = log
        self._facts = facts
        self._clock = clock
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def on_event(self, event: Broadcast) -> None:
        """One event from AMI (an async result names the session that asked)."""
        message = event.message
        self._facts.observe(message, self._clock())
        self._log.append(message, event.owner, private=event.private)
        for subscriber in self._subscribers:
            subscriber(message)

    def on_link(self, up: bool, reason: str) -> None:
        """The AMI link came up, or went down for ``reason``."""
        self._log.append(link_event(up, reason))
