"""Token buckets, failure windows and the login guard, on an explicit clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.ratelimit import (
    CostRates,
    FailureWindow,
    LoginGuard,
    TokenBuckets,
    retry_after,
)
from gateway.errors import RateLimited


def test_bucket_allows_a_burst_then_paces_at_the_rate() -> None:
    buckets: TokenBuckets[str] = TokenBuckets(rate=5)
    assert [buckets.take("a", 0.0) for _ in range(5)] == [0.0] * 5
    assert buckets.take("a", 0.0) == pytest.approx(0.2)
    assert buckets.take("a", 0.1) == pytest.approx(0.1)
    assert buckets.take("a", 0.2) == 0.0  # one token came back in 0.2 s
    assert buckets.take("b", 0.2) == 0.0  # keys are independent


def test_bucket_refill_is_capped_at_the_burst() -> None:
    buckets: TokenBuckets[str] = TokenBuckets(rate=2, burst=3)
    for _ in range(3):
        buckets.take("a", 0.0)
    allowed = [buckets.take("a", 1000.0) for _ in range(4)]
    assert allowed[:3] == [0.0] * 3
    assert allowed[3] > 0


def test_a_slow_rate_still_allows_one_request() -> None:
    buckets: TokenBuckets[str] = TokenBuckets(rate=0.1)
    assert buckets.take("a", 0.0) == 0.0
    assert buckets.take("a", 0.0) == pytest.approx(10.0)


def test_clock_going_backwards_never_adds_tokens() -> None:
    buckets: TokenBuckets[str] = TokenBuckets(rate=1)
    assert buckets.take("a", 10.0) == 0.0
    assert buckets.take("a", 5.0) > 0


def test_buckets_keep_at_most_max_keys_dropping_the_least_recent() -> None:
    buckets: TokenBuckets[int] = TokenBuckets(rate=1, max_keys=3)
    for key in range(3):
        buckets.take(key, 0.0)
    buckets.take(0, 0.0)  # 0 is now the most recent; 1 is the oldest
    buckets.take(3, 0.0)
    assert len(buckets) == 3
    assert buckets.take(0, 0.0) > 0  # still remembered: empty
    assert buckets.take(1, 0.0) == 0.0  # forgotten: full again
    buckets.forget(1)
    assert len(buckets) == 2


@pytest.mark.parametrize("kwargs", [{"rate": 0}, {"rate": -1}, {"rate": 1, "max_keys": 0}], ids=str)
def test_bucket_arguments_are_checked(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBuckets(**kwargs)  # type: ignore[arg-type]


@given(
    rate=st.floats(min_value=0.5, max_value=100),
    gaps=st.lists(st.floats(min_value=0, max_value=2), min_size=1, max_size=200),
)
def test_bucket_never_allows_more_than_burst_plus_rate_times_time(
    rate: float, gaps: list[float]
) -> None:
    buckets: TokenBuckets[str] = TokenBuckets(rate=rate)
    now = 0.0
    allowed = 0
    for gap in gaps:
        now += gap
        allowed += buckets.take("k", now) == 0.0
    assert allowed <= buckets.burst + rate * now + 1e-6


def test_failure_window_blocks_after_limit_and_slides() -> None:
    window: FailureWindow[str] = FailureWindow(limit=3, window=60)
    for t in (0.0, 10.0, 20.0):
        assert window.blocked_for("a", t) == 0.0
        window.record("a", t)
    assert window.blocked_for("a", 30.0) == pytest.approx(30.0)  # until 0 + 60
    assert window.blocked_for("a", 60.0) == 0.0  # the failure at 0 has left
    window.record("a", 60.0)
    assert window.blocked_for("a", 61.0) == pytest.approx(9.0)  # until 10 + 60
    assert window.blocked_for("b", 61.0) == 0.0
    window.clear("a")
    assert window.blocked_for("a", 61.0) == 0.0


def test_failure_window_memory_is_bounded() -> None:
    window: FailureWindow[int] = FailureWindow(limit=2, window=60, max_keys=10)
    for key in range(1000):
        window.record(key, 0.0)
        window.record(key, 0.0)
    assert len(window) == 10
    assert window.blocked_for(999, 1.0) > 0
    assert window.blocked_for(0, 1.0) == 0.0


@pytest.mark.parametrize("kwargs", [{"limit": 0, "window": 1}, {"limit": 1, "window": 0}], ids=str)
def test_failure_window_arguments_are_checked(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive"):
        FailureWindow(**kwargs)  # type: ignore[arg-type]


def test_guard_per_user_and_address_never_locks_other_addresses() -> None:
    guard = LoginGuard(per_address=100, per_user_address=3, window=300)
    for _ in range(3):
        guard.failed("Alice", "192.0.2.1", 0.0)
    assert guard.blocked("alice", "192.0.2.1", 1.0)  # user names are case-insensitive
    assert not guard.blocked("alice", "198.51.100.7", 1.0)
    assert not guard.blocked("bob", "192.0.2.1", 1.0)
    assert not guard.blocked("alice", "192.0.2.1", 301.0)


def test_guard_per_address_covers_every_user_name() -> None:
    guard = LoginGuard(per_address=4, per_user_address=100, window=300)
    for i in range(4):
        guard.failed(f"user{i}", "192.0.2.1", 0.0)
    assert guard.blocked("someone-else", "192.0.2.1", 1.0)
    assert not guard.blocked("someone-else", "192.0.2.2", 1.0)


def test_success_clears_only_that_user_at_that_address() -> None:
    guard = LoginGuard(per_address=3, per_user_address=2, window=300)
    guard.failed("alice", "192.0.2.1", 0.0)
    guard.failed("alice", "192.0.2.1", 0.0)
    guard.failed("mallory", "192.0.2.1", 0.0)
    guard.succeeded("alice", "192.0.2.1")
    assert guard.by_user.blocked_for(("alice", "192.0.2.1"), 1.0) == 0.0
    assert guard.blocked("alice", "192.0.2.1", 1.0)  # the address's count stays


@pytest.mark.parametrize(("seconds", "header"), [(0.0, 1), (0.01, 1), (1.0, 1), (1.2, 2)])
def test_retry_after_is_whole_seconds_at_least_one(seconds: float, header: int) -> None:
    assert retry_after(seconds) == header


def test_failure_count_is_within_the_window() -> None:
    window: FailureWindow[str] = FailureWindow(limit=5, window=10)
    for t in (0.0, 5.0, 9.0):
        window.record("a", t)
    assert window.count("a", 9.5) == 3
    assert window.count("a", 12.0) == 2
    assert window.count("b", 12.0) == 0


def test_attempts_being_checked_count_once_a_failure_is_seen() -> None:
    guard = LoginGuard(per_address=3, per_user_address=2, window=300)
    for _ in range(10):  # a farm of clients logging in at once: no failure yet
        guard.checking("alice", "192.0.2.1", busy=True)
    assert not guard.blocked("alice", "192.0.2.1", 0.0)
    for _ in range(10):
        guard.checking("alice", "192.0.2.1", busy=False)
    guard.failed("alice", "192.0.2.1", 0.0)
    assert not guard.blocked("alice", "192.0.2.1", 1.0)
    guard.checking("alice", "192.0.2.1", busy=True)
    assert guard.blocked("alice", "192.0.2.1", 1.0)  # one failed, one in flight
    assert not guard.blocked("alice", "192.0.2.2", 1.0)
    assert not guard.blocked("carol", "192.0.2.1", 1.0)  # address: 1 + 1 < 3
    guard.checking("carol", "192.0.2.1", busy=True)
    assert guard.blocked("dave", "192.0.2.1", 1.0)  # address: 1 failed + 2 in flight
    for name in ("alice", "carol"):
        guard.checking(name, "192.0.2.1", busy=False)
    assert not guard.blocked("carol", "192.0.2.1", 1.0)
    assert not guard._checking  # nothing left behind


def test_reconfigured_buckets_keep_spent_tokens_under_the_new_rate() -> None:
    buckets: TokenBuckets[str] = TokenBuckets(10)
    for _ in range(10):
        assert buckets.take("a", 0.0) == 0.0
    buckets.configure(2)
    assert buckets.take("a", 0.0) == pytest.approx(0.5)  # still empty; refills at 2/s
    assert buckets.take("a", 10.0) == 0.0
    assert buckets.burst == 2
    with pytest.raises(ValueError, match="positive"):
        buckets.configure(0)


def test_reconfigured_guard_keeps_counted_failures() -> None:
    guard = LoginGuard(per_address=10, per_user_address=5, window=60)
    for _ in range(3):
        guard.failed("bob", "10.0.0.1", 0.0)
    assert not guard.blocked("bob", "10.0.0.1", 1.0)
    guard.configure(per_address=10, per_user_address=3, window=60)
    assert guard.blocked("bob", "10.0.0.1", 1.0)  # the three failures already counted
    assert not guard.blocked("bob", "10.0.0.2", 1.0)
    guard.configure(per_address=10, per_user_address=3, window=0.5)
    assert not guard.blocked("bob", "10.0.0.1", 1.0)  # a shorter window forgets them
    with pytest.raises(ValueError, match="positive"):
        guard.configure(per_address=0, per_user_address=3, window=1)


def test_a_cost_spends_several_tokens_but_never_more_than_a_burst() -> None:
    buckets: TokenBuckets[str] = TokenBuckets(rate=10, burst=10)
    assert buckets.take("a", 0.0, cost=4) == 0.0
    assert buckets.take("a", 0.0, cost=4) == 0.0
    assert buckets.take("a", 0.0, cost=4) == pytest.approx(0.2)  # 2 left, 2 more due in 0.2 s
    assert buckets.take("b", 0.0, cost=1000) == 0.0  # a burst's worth: it can pass at all
    assert buckets.take("b", 0.0) == pytest.approx(0.1)


def test_cost_rates_count_actions_by_size_per_session_and_address() -> None:
    rates = CostRates(TokenBuckets(rate=5), TokenBuckets(rate=8))
    rates.action("192.0.2.1", "s1", 0.0, size=3000)  # three started KiB: 3 tokens each
    rates.action("192.0.2.1", "s1", 0.0)
    with pytest.raises(RateLimited):  # the session has 1 left
        rates.action("192.0.2.1", "s1", 0.0, size=1025)
    rates.action("192.0.2.1", None, 0.0)  # a one-shot request: its address pays only
    rates.check("192.0.2.1", 0.0)  # a secret checked
    with pytest.raises(RateLimited):  # 3 + 1 + 2 + 1 + 1 = 8: the address is spent
        rates.check("192.0.2.1", 0.0)
    rates.check("192.0.2.2", 0.0)  # another address has its own


def test_due_waits_for_both_buckets_and_spends_only_when_both_can() -> None:
    """An AMI connection's action waits its turn; while it waits nothing is spent."""
    rates = CostRates(TokenBuckets[str](2.0), TokenBuckets[str](100.0))
    assert rates.due("a", "s", 0.0) == 0.0
    assert rates.due("a", "s", 0.0) == 0.0
    wait = rates.due("a", "s", 0.0)  # the session's burst of 2 is spent
    assert wait == pytest.approx(0.5)
    assert rates.per_address.due("a", 0.0, 98.0) == 0.0  # the address paid twice, not three times
    assert rates.due("a", "s", 0.5) == 0.0
    assert rates.due("a", "s", 0.5, size=5000) == pytest.approx(1.0)  # 5 KiB: the burst of 2
