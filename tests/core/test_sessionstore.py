"""The session store: ids, life and expiry, the limits, waiters, counts."""

from __future__ import annotations

import re

import pytest

from gateway.access.classes import ALL
from gateway.access.identity import Identity
from gateway.core.sessions import Session
from gateway.core.sessionstore import SessionStore
from gateway.errors import TooManySessions


class Waiter:
    def __init__(self) -> None:
        self.woken = 0
        self.kicked = 0

    def wake(self) -> None:
        self.woken += 1

    def kick(self) -> None:
        self.kicked += 1


def test_ids_are_node_prefixed_128_bit_hex() -> None:
    store = SessionStore(node_id="n1")
    session = store.create("127.0.0.1", 0.0, 0)
    assert re.fullmatch(r"n1[0-9a-f]{32}", session.id)
    assert store.get(session.id, 1.0) is session


def test_unauthenticated_life_then_httptimeout_after_login() -> None:
    store = SessionStore(httptimeout=60, unauth_timeout=10)
    session = store.create("127.0.0.1", 0.0, 0)
    assert store.get(session.id, 9.9) is session
    assert store.get(session.id, 10.0) is None
    session = store.create("127.0.0.1", 0.0, 0)
    session.log_in(Identity("admin", ALL, ALL))
    store.touch(session, 0.0)
    assert store.get(session.id, 59.0) is session


def test_rekey_changes_the_id_and_keeps_the_key() -> None:
    store = SessionStore()
    session = store.create("127.0.0.1", 0.0, 0)
    old_id, key = session.id, session.key
    store.rekey(session, 0.0)
    assert session.id != old_id
    assert session.key == key
    assert store.get(old_id, 0.0) is None
    assert store.get(session.id, 0.0) is session


def test_limit_reaps_before_refusing() -> None:
    store = SessionStore(max_sessions=1, unauth_timeout=1)
    store.create("a", 0.0, 0)
    store.create("b", 5.0, 0)  # the first has expired by now
    with pytest.raises(TooManySessions):
        store.create("c", 5.5, 0)


def log_in(store: SessionStore, session: Session) -> Session:
    """What the login gate does to a session: a new id, stored, then the user."""
    store.rekey(session, 0.0)
    session.log_in(Identity("admin", ALL, ALL))
    return session


def test_a_fresh_session_is_stored_only_by_its_login_or_a_challenge() -> None:
    store = SessionStore(max_sessions=2)
    fresh = store.fresh("a", 0.0, 0)
    assert len(store) == 0
    assert store.get(fresh.id, 0.0) is None
    store.keep(fresh, 0.0)
    store.keep(fresh, 0.0)  # once
    assert len(store) == 1
    assert store.get(fresh.id, 0.0) is fresh
    other = store.fresh("b", 0.0, 0)
    store.rekey(other, 0.0)  # a login stores it
    assert store.get(other.id, 0.0) is other


def test_sessions_before_login_are_capped_per_address() -> None:
    store = SessionStore(max_unauth_per_address=2)
    store.create("a", 0.0, 0)
    pending = store.create("a", 0.0, 0)
    with pytest.raises(TooManySessions):
        store.create("a", 0.0, 0)
    store.create("b", 0.0, 0)  # another address has its own share
    log_in(store, pending)  # logged in: no longer pending
    store.create("a", 0.0, 0)
    store.configure(10, 1)
    with pytest.raises(TooManySessions):
        store.create("b", 0.0, 0)
    assert len(store) == 4


def test_a_login_drops_the_oldest_pending_session_never_a_logged_in_one() -> None:
    store = SessionStore(max_sessions=3)
    oldest, newer = store.create("a", 0.0, 0), store.create("b", 0.0, 0)
    first = log_in(store, store.fresh("c", 0.0, 0))
    second = log_in(store, store.fresh("c", 0.0, 0))
    assert store.get(oldest.id, 0.0) is None
    assert store.get(newer.id, 0.0) is newer
    third = log_in(store, store.fresh("c", 0.0, 0))
    assert store.get(newer.id, 0.0) is None
    with pytest.raises(TooManySessions):
        store.rekey(store.fresh("c", 0.0, 0), 0.0)  # only logged-in ones left
    with pytest.raises(TooManySessions):
        store.create("d", 0.0, 0)  # nor does a challenge push one out
    assert {first, second, third} == set(store)


def test_waiting_sessions_are_not_reaped_and_removal_kicks() -> None:
    store = SessionStore(unauth_timeout=1)
    session = store.create("a", 0.0, 0)
    waiter = Waiter()
    assert store.set_waiter(session, waiter) is None
    assert store.reap(10.0) == []
    assert store.waiting() == [session]
    assert store.waiting_count == 1
    store.remove(session)
    assert waiter.kicked == 1
    assert store.waiting_count == 0


def test_clear_waiter_only_clears_its_own() -> None:
    store = SessionStore()
    session = store.create("a", 0.0, 0)
    first, second = Waiter(), Waiter()
    store.set_waiter(session, first)
    assert store.set_waiter(session, second) is first
    store.clear_waiter(session, first)
    assert session.waiter is second
    store.clear_waiter(session)
    assert session.waiter is None


def test_count_user_and_iteration() -> None:
    store = SessionStore()
    store.create("127.0.0.1", 0.0, 0).log_in(Identity("admin", ALL, ALL))
    store.create("b", 0.0, 0)
    assert store.count_user("admin") == 1
    assert len(store) == 2
    assert len(list(store)) == 2


def test_a_detached_session_is_never_stored_and_has_its_own_key() -> None:
    store = SessionStore()
    kept = store.create("10.0.0.1", 0.0, 0)
    one_shot = store.detached("10.0.0.1", 0.0, 5)
    assert one_shot.id == ""
    assert one_shot.key != kept.key
    assert one_shot.cursor == 5
    assert len(store) == 1
    assert store.get("", 0.0) is None


def test_authenticated_count() -> None:
    store = SessionStore()
    store.create("a", 0.0, 0)
    logged_in = store.create("b", 0.0, 0)
    assert store.authenticated_count() == 0
    logged_in.log_in(Identity("admin", ALL, ALL))
    assert store.authenticated_count() == 1
    assert len(store) == 2
