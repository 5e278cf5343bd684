"""The Digest nonce store: issue, bind to a session, counts, lifetime, renewal, sweeping."""

from __future__ import annotations

import re

import pytest

from gateway.core.nonces import SWEEP_MIN, Bound, NonceStore, Pending
from gateway.core.sessions import Session

NONCE = re.compile(r"n1[0-9a-f]{32}")


def session(key: str = "1") -> Session:
    return Session(id=f"s{key}", key=key, address="127.0.0.1", expires=1e9)


def test_nonces_have_the_session_id_form_and_never_repeat() -> None:
    store = NonceStore(node_id="n1")
    nonces = {store.issue(0.0) for _ in range(1000)}
    assert len(nonces) == 1000
    assert all(NONCE.fullmatch(n) for n in nonces)


def test_a_pending_nonce_lives_for_its_lifetime_only() -> None:
    store = NonceStore(lifetime=60)
    nonce = store.issue(100.0)
    assert store.find(nonce, 160.0) == Pending(nonce)
    assert store.find(nonce, 160.5) is None
    assert store.pending_count == 0


def test_unknown_nonces_are_not_accepted() -> None:
    store = NonceStore()
    store.issue(0.0)
    assert store.find("0123abcd", 0.0) is None  # Asterisk would open a session on it


def test_pending_nonces_are_bounded_oldest_first() -> None:
    store = NonceStore(max_pending=3)
    first, *rest = [store.issue(float(i)) for i in range(4)]
    assert store.pending_count == 3
    assert store.find(first, 4.0) is None
    assert all(store.find(n, 4.0) == Pending(n) for n in rest)


def test_expired_pending_nonces_are_dropped_when_issuing() -> None:
    store = NonceStore(lifetime=10)
    store.issue(0.0)
    store.issue(5.0)
    store.issue(12.0)
    assert store.pending_count == 2


def test_bind_records_the_first_count_so_a_replay_is_refused() -> None:
    store = NonceStore()
    nonce = store.issue(0.0)
    owner = session()
    binding = store.bind(nonce, owner, "admin", 1, 1.0)
    assert store.find(nonce, 1.0) == Bound(binding, current=True)
    assert not store.use(binding, 1, 2.0)  # Asterisk accepts this one replay
    assert store.use(binding, 2, 2.0)
    assert not store.use(binding, 2, 2.0)
    assert store.use(binding, 7, 3.0)  # counts may skip (a lost request)
    assert not store.use(binding, 5, 3.0)
    assert binding.nc == 7
    assert store.pending_count == 0


def test_a_bound_nonce_goes_stale_after_its_lifetime_from_issue() -> None:
    store = NonceStore(lifetime=60)
    nonce = store.issue(0.0)
    binding = store.bind(nonce, session(), "admin", 1, 30.0)
    assert store.use(binding, 2, 60.0)
    assert not store.use(binding, 3, 60.5)


def test_renew_keeps_the_session_and_remembers_one_old_nonce() -> None:
    store = NonceStore(node_id="n1", lifetime=60)
    first = store.issue(0.0)
    owner = session()
    binding = store.bind(first, owner, "admin", 1, 0.0)
    second = store.renew(binding, 100.0)
    assert NONCE.fullmatch(second)
    assert second != first
    assert store.find(second, 100.0) == Bound(binding, current=True)
    assert store.find(first, 100.0) == Bound(binding, current=False)
    assert store.use(binding, 1, 100.0)  # a new nonce counts from 1 again
    third = store.renew(binding, 200.0)
    assert store.find(first, 200.0) is None
    assert store.find(second, 200.0) == Bound(binding, current=False)
    assert binding.session is owner
    assert binding.nonce == third
    assert store.bound_count == 2


def test_a_nonce_of_an_ended_session_is_unknown() -> None:
    alive: set[str] = {"1"}
    store = NonceStore(alive=lambda s: s.key in alive)
    nonce = store.issue(0.0)
    binding = store.bind(nonce, session("1"), "admin", 1, 0.0)
    old = nonce
    store.renew(binding, 1.0)
    alive.clear()
    assert store.find(old, 1.0) is None
    assert store.bound_count == 0


def test_sweep_forgets_ended_sessions_once_the_table_doubles() -> None:
    alive: set[str] = set()
    store = NonceStore(alive=lambda s: s.key in alive)
    for i in range(SWEEP_MIN):
        store.bind(store.issue(0.0), session(str(i)), "u", 1, 0.0)
    assert store.bound_count == SWEEP_MIN
    alive.add("last")
    store.bind(store.issue(0.0), session("last"), "u", 1, 0.0)
    assert store.bound_count == 1


def test_sweep_counts_what_it_dropped() -> None:
    alive = {"a"}
    store = NonceStore(alive=lambda s: s.key in alive)
    keep = store.bind(store.issue(0.0), session("a"), "u", 1, 0.0)
    gone = store.bind(store.issue(0.0), session("b"), "u", 1, 0.0)
    store.renew(gone, 1.0)
    assert store.sweep() == 1
    assert store.bound_count == 1
    assert store.find(keep.nonce, 1.0) == Bound(keep, current=True)


def test_bind_needs_a_pending_nonce() -> None:
    store = NonceStore()
    with pytest.raises(KeyError):
        store.bind("never-issued", session(), "u", 1, 0.0)
