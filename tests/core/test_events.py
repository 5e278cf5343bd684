from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.access.classes import CLASS_BITS
from gateway.ami.message import Message
from gateway.core.events import EventLog, StoredEvent
from gateway.core.numbering import LANES, SEQ_EPOCH, Numbering


def event(name: str, privilege: str = "call,all") -> Message:
    return Message.of(("Event", name), ("Privilege", privilege))


def test_a_ring_on_its_own_numbers_from_one_and_parses_privilege() -> None:
    log = EventLog(4)
    first = log.append(event("Newchannel"))
    second = log.append(event("UserEvent", "user,all"))
    assert (first.seq, second.seq) == (1, 2)
    assert first.classes == CLASS_BITS["call"]
    assert second.classes == CLASS_BITS["user"]
    assert second.name == "userevent"


def test_since_returns_later_events_in_order() -> None:
    log = EventLog(10)
    for i in range(5):
        log.append(event(f"E{i}"))
    lost, events = log.since(2)
    assert lost == 0
    assert [e.seq for e in events] == [3, 4, 5]


def test_ring_reports_what_it_dropped() -> None:
    log = EventLog(3)
    for i in range(7):
        log.append(event(f"E{i}"))
    assert log.first_seq == 5
    lost, events = log.since(1)
    assert lost == 3  # seqs 2, 3, 4 are gone
    assert [e.seq for e in events] == [5, 6, 7]


def test_since_with_limit_and_future_cursor() -> None:
    log = EventLog(10)
    for i in range(5):
        log.append(event(f"E{i}"))
    assert [e.seq for e in log.since(0, limit=2)[1]] == [1, 2]
    assert log.since(99) == (0, [])


def test_listeners_see_each_event_once() -> None:
    log = EventLog(5)
    seen: list[StoredEvent] = []
    log.add_listener(seen.append)
    log.append(event("A"))
    log.remove_listener(seen.append)
    log.append(event("B"))
    assert [e.name for e in seen] == ["a"]


def test_text_is_the_wire_form_and_cached() -> None:
    stored = EventLog(2).append(event("A"))
    assert stored.text == "Event: A\r\nPrivilege: call,all\r\n\r\n"
    assert "text" in stored.fragments


def test_event_without_privilege_has_no_classes() -> None:
    assert EventLog(2).append(Message.of(("Event", "X"))).classes == 0


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        EventLog(0)


@given(st.integers(1, 20), st.integers(0, 60), st.integers(0, 70))
def test_since_never_skips_or_repeats(capacity: int, count: int, cursor: int) -> None:
    log = EventLog(capacity)
    for i in range(count):
        log.append(event(f"E{i}"))
    lost, events = log.since(cursor)
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))
    if cursor < count:
        assert lost + len(seqs) == count - cursor
        assert not seqs or seqs[-1] == count


@given(
    st.integers(1, 20),
    st.integers(0, 60),
    st.integers(0, 70),
    st.integers(0, LANES - 1),
    st.floats(0, 2e9),
)
def test_a_boots_numbers_never_skip_or_repeat(
    capacity: int, count: int, passed: int, lane: int, since_epoch: float
) -> None:
    """The gateway's numbering: the same ring, numbers ``stride`` apart."""
    numbering = Numbering.at_boot(SEQ_EPOCH + since_epoch, lane)
    log = EventLog(capacity, numbering=numbering)
    for i in range(count):
        log.append(event(f"E{i}"))
    lost, events = log.since(numbering.seq(passed))
    assert [e.seq for e in events] == [
        numbering.seq(n) for n in range(max(passed, count - capacity) + 1, count + 1)
    ]
    assert lost == max(0, count - capacity - passed)
    assert log.last_seq == numbering.seq(count)
    assert log.count(numbering.seq(min(passed, count)), log.last_seq) == max(0, count - passed)


def test_append_stamps_the_arrival_time() -> None:
    log = EventLog(4)
    before = time.monotonic()
    event = log.append(Message.of(("Event", "X")))
    assert before <= event.received <= time.monotonic()
