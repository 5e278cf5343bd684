"""Sessions stored before their login (``gateway.core.pending``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gateway.access.classes import ALL
from gateway.access.identity import Identity
from gateway.core.pending import PendingSessions
from gateway.core.sessionstore import SessionStore
from gateway.errors import TooManySessions


@dataclass(frozen=True)
class Pending:
    key: str
    address: str


def test_each_address_has_its_share_and_the_oldest_comes_first() -> None:
    pending: PendingSessions[Pending] = PendingSessions(per_address=2)
    a1, a2, b1 = Pending("1", "a"), Pending("2", "a"), Pending("3", "b")
    for session in (a1, a2, a2, b1):  # admitted twice, counted once
        pending.admit(session)
    assert len(pending) == 3
    with pytest.raises(TooManySessions):
        pending.admit(Pending("4", "a"))
    assert pending.oldest() == a1
    pending.forget(a1)
    pending.forget(a1)  # forgotten twice, no harm
    pending.admit(Pending("4", "a"))  # a's share has room again
    assert pending.oldest() == a2
    with pytest.raises(ValueError, match="positive"):
        PendingSessions(per_address=0)


def test_a_session_logged_in_without_the_store_is_not_taken_for_pending() -> None:
    store = SessionStore(max_sessions=2)
    odd = store.create("a", 0.0, 0)
    odd.log_in(Identity("admin", ALL, ALL))  # not through rekey: still counted pending
    store.create("b", 0.0, 0)
    store.rekey(store.fresh("c", 0.0, 0), 0.0)  # room: "b" goes, never the logged-in one
    assert store.get(odd.id, 0.0) is odd
    assert len(store) == 2
