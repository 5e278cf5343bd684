"""The AMI event path: where every event read from Asterisk goes, in order.

The AMI client hands each event, and each change of its link, to one
``AmiEventPath``.  For an event it

1. updates what the gateway knows of Asterisk (``AmiFacts``: FullyBooted),
2. appends it to the shared ``EventLog``, where every session reads it,
3. tells each subscriber, in the order they subscribed: the metrics, the
   call history's recorder.  No door subscribes here: the AMI door, like
   HTTP sessions and push streams, reads the log by cursor.

Readers of the log (the held polls, the AMI door's connections through
their standing waiters, the push streams) learn of new events through one
``EventBatches``: it collects whatever the log took during one loop
iteration (an AMI read, the gateway's own events: link changes, security
events) and hands the batch to each consumer once, so a burst of events
costs each consumer one pass, not one per event.

A change of the link becomes the gateway's own ``GatewayAMIUp`` or
``GatewayAMIDown`` event in the log, so that sessions learn of it.
Subscribers must be quick and must not block: they run on the AMI client's
read loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from gateway.ami.correlator import Broadcast
from gateway.ami.message import Message
from gateway.core.events import EventLog, StoredEvent
from gateway.core.facts import AmiFacts

Subscriber = Callable[[Message], None]
"""Told of every AMI event once it is in the log."""

BatchConsumer = Callable[[list[StoredEvent]], None]
"""Told of the events the log took during one loop iteration, oldest first."""


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


class EventBatches:
    """The log's new events, handed to each consumer once per loop iteration.

    The one way from the log to its readers: the poll notifier
    (``gateway.core.waitevent.Notifier``, which wakes every session's
    waiter: the held polls and the AMI door's connections) and the push
    fan-out subscribe here, in that order.  Consumers must be quick and
    must not block.
    """

    def __init__(self, log: EventLog) -> None:
        self._log = log
        self._batch: list[StoredEvent] = []
        self._consumers: list[BatchConsumer] = []

    def subscribe(self, consumer: BatchConsumer) -> None:
        self._consumers.append(consumer)

    def unsubscribe(self, consumer: BatchConsumer) -> None:
        self._consumers.remove(consumer)

    def listen(self) -> EventBatches:
        """Start taking the log's events (inside the running loop, whose
        iterations make the batches)."""
        self._log.add_listener(self._on_event)
        return self

    def close(self) -> None:
        self._log.remove_listener(self._on_event)

    def _on_event(self, event: StoredEvent) -> None:
        self._batch.append(event)
        if len(self._batch) == 1:
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        for consumer in self._consumers:
            consumer(batch)
