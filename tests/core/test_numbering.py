"""A boot's event numbers (gateway/core/numbering.py) and where a client's
cursor puts a reader (EventLog.place, gateway/core/cursors.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.ami.message import Message
from gateway.core.cursors import BEYOND, LossReason, lost_notice, parse_cursor
from gateway.core.events import EventLog, Placement
from gateway.core.numbering import (
    LANE_RATE,
    LANES,
    ORIGIN_LIMIT,
    SEQ_EPOCH,
    SEQ_LIMIT,
    Numbering,
)
from gateway.errors import AmiLevelError

BOOT = SEQ_EPOCH + 300 * 86_400.25  # late October 2026
YEAR = 365.25 * 86_400


def filled(numbering: Numbering, count: int, capacity: int = 100) -> EventLog:
    log = EventLog(capacity, numbering=numbering)
    for i in range(count):
        log.append(Message.of(("Event", f"E{i}"), ("Privilege", "call,all")))
    return log


def test_a_boot_numbers_from_the_clock_in_its_lane() -> None:
    numbering = Numbering.at_boot(BOOT, 5)
    assert numbering.stride == LANES
    assert numbering.origin == int(300 * 86_400.25 * LANE_RATE) * LANES + 5
    log = filled(numbering, 3)
    assert [e.seq for e in log.since(log.origin)[1]] == [
        numbering.origin + LANES,
        numbering.origin + 2 * LANES,
        numbering.origin + 3 * LANES,
    ]
    assert all(e.seq % LANES == 5 for e in log.since(0)[1])


@pytest.mark.parametrize("lane", [-1, LANES])
def test_a_lane_is_one_of_the_lanes(lane: int) -> None:
    with pytest.raises(ValueError, match="lane"):
        Numbering.at_boot(BOOT, lane)


@given(
    st.floats(0, 60 * YEAR),
    st.floats(0.001, 30 * 86_400),
    st.integers(0, LANES - 1),
    st.integers(0, LANES - 1),
)
def test_a_later_boot_starts_above_an_earlier_one_at_any_realistic_rate(
    since_epoch: float, uptime: float, lane: int, later_lane: int
) -> None:
    """However long the first boot ran, at LANE_RATE events a second it cannot
    have numbered past the second boot's origin."""
    first = Numbering.at_boot(SEQ_EPOCH + since_epoch, lane)
    second = Numbering.at_boot(SEQ_EPOCH + since_epoch + uptime, later_lane)
    reached = first.seq(int(uptime * LANE_RATE) - 1)
    assert reached < second.origin


def test_numbers_stay_exact_doubles_until_2093_and_after() -> None:
    in_2093 = Numbering.at_boot(SEQ_EPOCH + 67.9 * YEAR, LANES - 1)
    assert in_2093.origin < SEQ_LIMIT - 2**36 * LANES
    assert float(in_2093.seq(10**9)) == in_2093.seq(10**9)
    far = Numbering.at_boot(SEQ_EPOCH + 500 * YEAR, 3)
    assert far.origin == ORIGIN_LIMIT * LANES + 3
    assert far.seq(2**36 - 1) < SEQ_LIMIT
    unset = Numbering.at_boot(0.0, 7)  # a clock that was never set (1970)
    assert unset.origin == 7


def test_a_cursor_of_this_ring_is_placed_where_it_is() -> None:
    log = filled(Numbering.at_boot(BOOT, 9), 5)
    events = log.since(log.origin)[1]
    for event in events:
        assert log.place(event.seq) == Placement(event.seq, foreign=False)
    assert log.place(log.origin) == Placement(log.origin, foreign=False)
    assert log.place(0) == log.place(-5) == Placement(log.origin, foreign=False)


@pytest.mark.parametrize(
    ("name", "cursor"),
    [
        ("an earlier boot's", lambda log: Numbering.at_boot(BOOT - 60, 9).seq(1000)),
        ("before the origin, in the lane", lambda log: log.origin - LANES),
        ("beyond the newest event", lambda log: log.last_seq + LANES),
        ("another instance's, within the span", lambda log: log.last_seq - LANES + 1),
        ("a later boot's", lambda log: Numbering.at_boot(BOOT + 60, 9).seq(1)),
        ("not a seq at all", lambda log: BEYOND),
    ],
)
def test_a_cursor_this_ring_did_not_hand_out_is_foreign(name: str, cursor: object) -> None:
    log = filled(Numbering.at_boot(BOOT, 9), 5)
    assert callable(cursor)
    assert log.place(cursor(log)) == Placement(log.origin, foreign=True), name


def test_an_evicted_cursor_of_this_ring_counts_exactly_what_it_lost() -> None:
    numbering = Numbering.at_boot(BOOT, 1)
    log = filled(numbering, 10, capacity=4)
    assert (log.first_seq, log.floor) == (numbering.seq(7), numbering.seq(6))
    placed = log.place(numbering.seq(2))
    assert placed == Placement(numbering.seq(2), foreign=False)
    lost, events = log.since(placed.cursor)
    assert (lost, [e.seq for e in events]) == (4, [numbering.seq(n) for n in (7, 8, 9, 10)])
    assert log.since(log.origin)[0] == 6  # what a foreign cursor is told: this ring's drops
    assert log.count(numbering.seq(2), log.last_seq) == 8


def test_get_finds_held_events_by_seq_only() -> None:
    numbering = Numbering.at_boot(BOOT, 2)
    log = filled(numbering, 6, capacity=3)
    assert log.get(numbering.seq(5)) is not None
    assert log.get(numbering.seq(5)).seq == numbering.seq(5)  # type: ignore[union-attr]
    for missing in (numbering.seq(3), numbering.seq(7), numbering.seq(5) + 1, log.origin):
        assert log.get(missing) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", None),
        ("  ", None),
        ("42", 42),
        (" 42x", 42),
        ("+7", 7),
        ("-3", -3),
        ("1" * 19, int("1" * 19)),
        ("1" * 20, BEYOND),
        ("-" + "9" * 5000, -BEYOND),
    ],
)
def test_a_cursor_is_read_as_asterisk_reads_numbers(text: str, value: int | None) -> None:
    assert parse_cursor(text) == value


def test_a_cursor_without_digits_is_refused() -> None:
    with pytest.raises(AmiLevelError, match="Invalid cursor"):
        parse_cursor("abc")


def test_the_notice_names_its_reason() -> None:
    assert lost_notice(3, LossReason.RESTART).fields == (
        ("Event", "GatewayEventsLost"),
        ("Privilege", "system,all"),
        ("Lost", "3"),
        ("Reason", "Restart"),
    )
    assert lost_notice(0, LossReason.OVERRUN).get("Reason") == "Overrun"
