"""The AMI event path in memory: facts, then the log, then the subscribers."""

from __future__ import annotations

from gateway.ami.correlator import Broadcast
from gateway.ami.message import Message
from gateway.core.eventpath import AmiEventPath
from gateway.core.events import EventLog
from gateway.core.facts import AmiFacts


def test_an_event_teaches_the_facts_enters_the_log_then_reaches_each_subscriber() -> None:
    log, facts, seen = EventLog(10), AmiFacts(), []
    path = AmiEventPath(log, facts, clock=lambda: 5.0)
    path.subscribe(lambda message: seen.append(("first", message.name, log.last_seq)))
    path.subscribe(lambda message: seen.append(("second", message.name, log.last_seq)))
    booted = Message.of(("Event", "FullyBooted"), ("Uptime", "10"), ("LastReload", "3"))
    path.on_event(Broadcast(booted))
    path.on_event(Broadcast(Message.of(("Event", "OriginateResponse")), "7"))
    path.on_event(Broadcast(Message.of(("Event", "OriginateResponse")), "8", private=True))
    assert facts.counted_on(5.0) == (10, 3)
    assert seen == [
        ("first", "FullyBooted", 1),  # already in the log when a subscriber hears of it
        ("second", "FullyBooted", 1),
        ("first", "OriginateResponse", 2),
        ("second", "OriginateResponse", 2),
        ("first", "OriginateResponse", 3),
        ("second", "OriginateResponse", 3),
    ]
    _, events = log.since(0)
    assert [(e.name, e.owner, e.private) for e in events] == [
        ("fullybooted", None, False),
        ("originateresponse", "7", False),
        ("originateresponse", "8", True),
    ]


def test_the_link_going_up_and_down_is_the_gateways_own_event() -> None:
    log = EventLog(10)
    path = AmiEventPath(log, AmiFacts())
    heard: list[Message] = []
    path.subscribe(heard.append)
    path.on_link(True, "")
    path.on_link(False, "Asterisk closed the connection")
    _, events = log.since(0)
    assert [e.message.fields for e in events] == [
        (("Event", "GatewayAMIUp"), ("Privilege", "system,all")),
        (
            ("Event", "GatewayAMIDown"),
            ("Privilege", "system,all"),
            ("Reason", "Asterisk closed the connection"),
        ),
    ]
    assert heard == []  # subscribers hear Asterisk's events, not the gateway's own
