"""The connection clock (gateway/http/deadlines.py), fed events by hand."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.http.deadlines import (
    BODY,
    HEADER,
    KEEPALIVE,
    ConnectionClock,
    Expired,
    Phase,
    Timeouts,
)

T = Timeouts(header=10.0, keepalive=75.0, body=60.0)


def served_once(clock: ConnectionClock, at: float) -> None:
    """One bodiless request, answered at ``at``."""
    clock.received(at)
    clock.request(at, body_complete=True)
    clock.responded(at)


def test_a_new_connection_has_header_timeout_from_the_connect() -> None:
    clock = ConnectionClock(T, now=100.0)
    assert (clock.phase, clock.deadline) == (Phase.NEW, 110.0)
    assert clock.expired(109.9) is None
    assert clock.expired(110.0) == Expired(HEADER, answer=False)  # silent: just closed


def test_bytes_on_a_new_connection_do_not_move_its_deadline_but_earn_a_408() -> None:
    clock = ConnectionClock(T, now=100.0)
    clock.received(105.0)
    clock.received(109.0)  # a trickle
    assert clock.deadline == 110.0
    assert clock.expired(110.0) == Expired(HEADER, answer=True)


def test_a_handler_at_work_has_no_deadline() -> None:
    clock = ConnectionClock(T, now=0.0)
    clock.received(1.0)
    clock.request(1.0, body_complete=True)
    assert (clock.phase, clock.deadline) == (Phase.BUSY, None)
    assert clock.expired(1e9) is None  # a held waitevent


def test_after_a_response_the_next_first_byte_has_keepalive_timeout() -> None:
    clock = ConnectionClock(T, now=0.0)
    served_once(clock, 1.0)
    assert (clock.phase, clock.deadline) == (Phase.IDLE, 76.0)
    assert clock.expired(76.0) == Expired(KEEPALIVE, answer=False)


def test_a_kept_alive_head_is_timed_from_its_first_byte() -> None:
    clock = ConnectionClock(T, now=0.0)
    served_once(clock, 1.0)
    clock.received(50.0)
    assert (clock.phase, clock.deadline) == (Phase.HEAD, 60.0)
    clock.received(59.0)
    assert clock.deadline == 60.0
    assert clock.expired(60.0) == Expired(HEADER, answer=True)


def test_a_body_has_body_timeout_from_its_head() -> None:
    clock = ConnectionClock(T, now=0.0)
    clock.received(1.0)
    clock.request(2.0, body_complete=False)
    assert (clock.phase, clock.deadline) == (Phase.BODY, 62.0)
    assert clock.expired(62.0) == Expired(BODY, answer=True)
    clock.body_complete(30.0)
    assert (clock.phase, clock.deadline) == (Phase.BUSY, None)
    clock.body_complete(31.0)  # only a body in progress can complete
    assert clock.phase is Phase.BUSY


def test_an_early_answer_keeps_the_body_deadline_and_then_closes_silently() -> None:
    """A 413 or 404 before the body is read: aiohttp discards the rest."""
    clock = ConnectionClock(T, now=0.0)
    clock.received(0.0)
    clock.request(0.0, body_complete=False)
    clock.responded(1.0)
    assert (clock.phase, clock.deadline) == (Phase.BODY, 60.0)
    assert clock.expired(60.0) == Expired(BODY, answer=False)
    clock.body_complete(5.0)
    assert (clock.phase, clock.deadline) == (Phase.IDLE, 80.0)


def test_a_pipelined_head_is_timed_from_its_first_byte_once_the_answer_is_out() -> None:
    clock = ConnectionClock(T, now=0.0)
    clock.received(0.0)
    clock.request(0.0, body_complete=True)
    clock.received(3.0)  # the next request begins while this one is handled
    clock.received(4.0)
    clock.responded(30.0)
    assert (clock.phase, clock.deadline) == (Phase.HEAD, 13.0)
    assert clock.expired(30.0) == Expired(HEADER, answer=True)
    clock.request(30.0, body_complete=True)  # or it was whole: it runs
    clock.responded(31.0)
    assert (clock.phase, clock.deadline) == (Phase.IDLE, 106.0)


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["received", "request", "partial", "body", "responded"]), st.floats(0, 10)
    ),
    max_size=40,
)


@given(EVENTS)
def test_only_a_busy_handler_is_without_a_deadline(events: list[tuple[str, float]]) -> None:
    clock = ConnectionClock(T, now=0.0)
    now = 0.0
    for name, step in events:
        now += step
        if name == "received":
            clock.received(now)
        elif name in ("request", "partial"):
            clock.request(now, body_complete=name == "request")
        elif name == "body":
            clock.body_complete(now)
        else:
            clock.responded(now)
        assert (clock.deadline is None) == (clock.phase is Phase.BUSY)
        if clock.deadline is not None:
            assert clock.deadline <= now + max(T.header, T.keepalive, T.body)
            expired = clock.expired(clock.deadline)
            assert expired is not None
            assert expired.answer or clock.phase in (Phase.NEW, Phase.IDLE, Phase.BODY)
