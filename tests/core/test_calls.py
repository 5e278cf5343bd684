"""Calls in the event log and per-extension views (gateway/core/calls.py),
with events shaped as Asterisk 22 writes them (tests/fixtures/asterisk-22)."""

from __future__ import annotations

import pytest

from gateway.access.classes import ALL
from gateway.access.identity import Identity
from gateway.ami.message import Field, Message
from gateway.core.calls import NAME_CACHE, extension_of, parse_extensions
from gateway.core.events import EventLog, StoredEvent
from gateway.core.sessionstore import SessionStore
from gateway.core.views import CallView
from gateway.errors import AmiLevelError


def call_event(name: str, channel: str, uniqueid: str, linkedid: str, *more: Field) -> Message:
    return Message.of(
        ("Event", name),
        ("Privilege", "call,all"),
        ("Channel", channel),
        ("Uniqueid", uniqueid),
        ("Linkedid", linkedid),
        *more,
    )


def dial_begin(caller: str, dest: str, dest_uid: str, linkedid: str) -> Message:
    return Message.of(
        ("Event", "DialBegin"),
        ("Privilege", "call,all"),
        ("Channel", caller),
        ("Linkedid", linkedid),
        ("DestChannel", dest),
        ("DestUniqueid", dest_uid),
        ("DestLinkedid", linkedid),
    )


TRUNK = "PJSIP/trunk-00000010"


def queue_call(log: EventLog) -> list[StoredEvent]:
    """A trunk call queued, then ringing 101 through FreePBX's Local member."""
    messages = [
        call_event("Newchannel", TRUNK, "1.10", "1.10"),
        call_event("VarSet", TRUNK, "1.10", "1.10", ("Variable", "IVR")),
        call_event("QueueCallerJoin", TRUNK, "1.10", "1.10", ("Queue", "sales")),
        call_event("Newchannel", "Local/101@from-queue-0000000a;1", "1.11", "1.10"),
        dial_begin(TRUNK, "Local/101@from-queue-0000000a;1", "1.11", "1.10"),
        call_event("Newchannel", "PJSIP/101-00000011", "1.13", "1.10"),
        call_event("Hangup", TRUNK, "1.10", "1.10"),
    ]
    return [log.append(m) for m in messages]


@pytest.mark.parametrize(
    ("channel", "extension"),
    [
        ("PJSIP/101-0000000a", "101"),
        ("SIP/101-0000000a", "101"),
        ("IAX2/101-1234", "101"),
        ("Local/101@from-queue-0000001b;1", "101"),
        ("Local/200@test/n", "200"),  # a queue member's Interface
        ("PJSIP/101", "101"),  # a device
        ("PJSIP/trunk-out-00000001", "trunk-out"),
        ("Queue:sales_avail", ""),
        ("", ""),
    ],
)
def test_the_extension_of_a_channel_or_device(channel: str, extension: str) -> None:
    assert extension_of(channel) == extension


def test_a_view_names_extensions() -> None:
    assert parse_extensions("101") == frozenset({"101"})
    assert parse_extensions(" 101 , 102,*55#") == frozenset({"101", "102", "*55#"})
    for bad in ("", "101,", "1 01", "a/b", "a@b", "a;b", "x" * 81):
        with pytest.raises(AmiLevelError, match=r"^Invalid extension$"):
            parse_extensions(bad)


def test_facts_of_an_event() -> None:
    log = EventLog(10)
    index = log.calls
    assert index.facts(Message.of(("Event", "FullyBooted"), ("Status", "x"))) is None
    begin = index.facts(dial_begin(TRUNK, "PJSIP/101-00000011", "1.13", "1.10"))
    assert begin is not None
    assert begin.linkedids == ("1.10",)  # Linkedid and DestLinkedid: one call
    assert begin.parties == frozenset({"trunk", "101"})
    assert begin.channels == (("1.13", "1.10"),)
    empty = index.facts(Message.of(("Event", "Cdr"), ("DestinationChannel", "")))
    assert empty is not None
    # A channel field, even empty: the event is not everyone's.
    assert (empty.linkedids, empty.parties) == ((), frozenset())
    one = index.facts(call_event("Newstate", TRUNK, "1.10", "1.10"))
    assert one is index.facts(call_event("Hangup", TRUNK, "1.10", "1.10"))  # shared


def test_a_cdr_belongs_to_the_call_its_channel_was_seen_in() -> None:
    log = EventLog(10)
    log.append(call_event("Newchannel", "Local/400@test-00000000;2", "5.2", "5.1"))
    cdr = log.append(
        Message.of(("Event", "Cdr"), ("Channel", "Local/400@test-00000000;2"), ("UniqueID", "5.2"))
    )
    assert cdr.calls is not None
    assert cdr.calls.linkedids == ("5.1",)
    unknown = log.calls.facts(Message.of(("Event", "Cdr"), ("UniqueID", "9.9")))
    assert unknown is not None
    assert unknown.linkedids == ()


def test_field_names_are_cached_up_to_a_bound() -> None:
    log = EventLog(10)
    for n in range(NAME_CACHE + 10):  # a client's UserEvent may invent any names
        log.calls.facts(Message.of(("Event", "UserEvent"), (f"H{n}", "x")))
    facts = log.calls.facts(Message.of(("Event", "UserEvent"), ("ZChannel", "PJSIP/7-01")))
    assert facts is not None
    assert facts.parties == frozenset({"7"})


def test_channel_names_are_cached_up_to_a_bound() -> None:
    log = EventLog(10)
    for n in range(NAME_CACHE + 10):  # every call brings new channel names
        facts = log.calls.facts(call_event("Newchannel", f"PJSIP/{n}-00000001", "1.1", "1.1"))
        assert facts is not None
        assert facts.parties == frozenset({str(n)})


def test_a_view_admits_its_calls_from_the_event_that_named_it() -> None:
    log = EventLog(20)
    events = queue_call(log)
    view = CallView(frozenset({"101"}))
    admitted = [e.name for e in events if view.admits(e, log.calls)]
    assert admitted == ["newchannel", "dialbegin", "newchannel", "hangup"]
    assert [e.name for e in view.catch_up(events[3], log)] == [
        "newchannel",
        "varset",
        "queuecallerjoin",
    ]
    assert view.catch_up(events[4], log) == []  # tied already
    assert view.catch_up(events[1], log) == []  # names no extension of the view
    other = CallView(frozenset({"102"}))
    assert not any(other.admits(e, log.calls) for e in events)


def test_system_events_pass_every_view() -> None:
    log = EventLog(4)
    down = log.append(Message.of(("Event", "GatewayAMIDown"), ("Reason", "x")))
    assert CallView(frozenset({"101"})).admits(down, log.calls)


def test_a_transfer_ties_both_calls_and_repeats_nothing() -> None:
    log = EventLog(20)
    first = log.append(call_event("Newchannel", "PJSIP/101-00000001", "2.1", "2.1"))
    other = log.append(call_event("Newchannel", TRUNK, "3.1", "3.1"))
    transfer = log.append(
        Message.of(
            ("Event", "BlindTransfer"),
            ("TransfererChannel", "PJSIP/101-00000001"),
            ("TransfererLinkedid", "2.1"),
            ("TransfereeChannel", TRUNK),
            ("TransfereeLinkedid", "3.1"),
        )
    )
    view = CallView(frozenset({"101"}))
    assert view.admits(first, log.calls)
    assert not view.admits(other, log.calls)
    assert view.catch_up(transfer, log) == [other]  # 3.1's past; 2.1 was tied already
    later = log.append(call_event("Hangup", TRUNK, "3.1", "3.1"))
    assert view.admits(later, log.calls)


def test_calls_are_forgotten_with_their_last_event() -> None:
    log = EventLog(3)
    log.append(call_event("Newchannel", "PJSIP/101-00000001", "2.1", "2.1"))
    log.append(call_event("Newchannel", "PJSIP/102-00000002", "2.2", "2.2"))
    assert len(log.calls) == 2
    for n in range(3):
        log.append(call_event("Newstate", "PJSIP/103-00000003", "2.3", "2.3", ("N", str(n))))
    assert len(log.calls) == 1  # only 2.3 is still held
    cdr = log.calls.facts(Message.of(("Event", "Cdr"), ("UniqueID", "2.1")))
    assert cdr is not None
    assert cdr.linkedids == ()  # its channel went with it


def test_a_channel_that_moved_to_another_call_stays_with_it() -> None:
    log = EventLog(2)
    log.append(call_event("Newchannel", "PJSIP/101-00000001", "2.1", "2.1"))
    log.append(call_event("Newstate", "PJSIP/101-00000001", "2.1", "3.1"))  # a new Linkedid
    log.append(call_event("Newstate", "PJSIP/102-00000002", "3.2", "3.1"))  # 2.1's call goes
    cdr = log.calls.facts(Message.of(("Event", "Cdr"), ("UniqueID", "2.1")))
    assert cdr is not None
    assert cdr.linkedids == ("3.1",)


def test_a_long_calls_evicted_events_are_dropped_from_its_trail() -> None:
    log = EventLog(10)
    for n in range(100):
        log.append(call_event("VarSet", "PJSIP/101-00000001", "2.1", "2.1", ("N", str(n))))
    trail = log.calls.trail("2.1")
    assert trail is not None
    assert trail.seqs[-10:] == list(range(91, 101))
    assert len(trail.seqs) <= 20  # at most twice what the ring holds
    late = log.append(call_event("Newchannel", "PJSIP/102-00000002", "2.2", "2.1"))
    earlier = CallView(frozenset({"102"})).catch_up(late, log)
    assert [e.seq for e in earlier] == list(range(92, 101))  # held ones only


def test_select_keeps_a_catch_up_block_whole() -> None:
    log = EventLog(20)
    events = queue_call(log)
    view = CallView(frozenset({"101"}))
    every, cursor = view.select(log, events, events[-1].seq, None, lambda e: True)
    assert [e.seq for e in every] == [1, 2, 3, 4, 5, 6, 7]
    assert cursor == 7
    block = sum(e.wire_size for e in every[:4])
    cut, cursor = view.select(log, events, events[-1].seq, block + 1, lambda e: True)
    assert ([e.seq for e in cut], cursor) == ([1, 2, 3, 4], 4)  # the trigger and its past
    tiny, cursor = view.select(log, events, events[-1].seq, 1, lambda e: True)
    assert ([e.seq for e in tiny], cursor) == ([1, 2, 3, 4], 4)  # the first block always goes
    unreadable, _ = view.select(log, events, 7, None, lambda e: e.name != "varset")
    assert "varset" not in [e.name for e in unreadable]


async def test_a_session_in_a_view_wakes_for_its_calls_only() -> None:
    log = EventLog(20)
    session = SessionStore().create("a", 0.0, log.last_seq)
    session.log_in(Identity("op", ALL, ALL))
    session.set_event_mask(ALL)
    session.set_view(CallView(frozenset({"101"})))
    assert session.view == CallView(frozenset({"101"}))
    before = log.append(call_event("Newchannel", TRUNK, "1.10", "1.10"))
    assert not session.has_pending([before])
    ringing = log.append(call_event("Newchannel", "PJSIP/101-00000011", "1.13", "1.10"))
    assert session.has_pending([ringing])
    lost, events, cursor = session.pending(log)
    assert (lost, [e.seq for e in events], cursor) == (0, [before.seq, ringing.seq], ringing.seq)
    session.set_view(None)
    assert session.wants(before)
