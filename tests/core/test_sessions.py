from __future__ import annotations

import re

import pytest

from gateway.access.classes import ALL, CLASS_BITS
from gateway.access.identity import Identity, OriginateResponses
from gateway.ami.message import Message
from gateway.core.events import EventLog
from gateway.core.sessions import Session, SessionStore
from gateway.errors import TooManySessions

CALL = CLASS_BITS["call"]
SYSTEM = CLASS_BITS["system"]


class Waiter:
    def __init__(self) -> None:
        self.woken = 0
        self.kicked = 0

    def wake(self) -> None:
        self.woken += 1

    def kick(self) -> None:
        self.kicked += 1


class OnlyName:
    def __init__(self, name: str) -> None:
        self.name = name

    def matches(self, text: str, message: Message) -> bool:
        return message.name == self.name


def logged_in(
    store: SessionStore,
    read: int = ALL,
    now: float = 0.0,
    results: OriginateResponses = OriginateResponses.ALL,
) -> Session:
    session = store.create("127.0.0.1", now, 0)
    session.log_in(Identity("admin", read, ALL, originate_response=results))
    session.set_event_mask(ALL)
    return session


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
    session = logged_in(store)
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


def test_wants_needs_every_class_in_read_and_mask() -> None:
    log = EventLog(10)
    session = logged_in(SessionStore(), read=CALL | SYSTEM)
    call = log.append(Message.of(("Event", "Newchannel"), ("Privilege", "call,all")))
    both = log.append(Message.of(("Event", "X"), ("Privilege", "call,user,all")))
    assert session.wants(call)
    assert not session.wants(both)
    session.set_event_mask(SYSTEM)
    assert not session.wants(call)


def test_async_results_reach_every_reader_unless_it_asked_for_its_own_only() -> None:
    """Asterisk sends an OriginateResponse to every session that may read
    it; ``originate_response = "owner"`` narrows a user's sessions to theirs."""
    store = SessionStore()
    log = EventLog(10)
    mine, other = logged_in(store), logged_in(store)
    narrow = logged_in(store, results=OriginateResponses.OWNER)
    result = log.append(
        Message.of(("Event", "OriginateResponse"), ("Privilege", "call,all")), owner=mine.key
    )
    assert mine.wants(result)
    assert other.wants(result)
    assert not narrow.wants(result)
    own = log.append(Message.of(("Event", "OriginateResponse")), owner=narrow.key)
    assert narrow.wants(own)
    no_call = logged_in(store, read=SYSTEM)
    assert not no_call.wants(result)  # still an event of class call


def test_a_private_result_reaches_its_owner_only() -> None:
    """The late result of a sync Originate whose client gave up."""
    store = SessionStore()
    log = EventLog(10)
    mine, other = logged_in(store), logged_in(store)
    late = log.append(Message.of(("Event", "OriginateResponse")), owner=mine.key, private=True)
    assert mine.wants(late)
    assert not other.wants(late)


def test_filters_apply_after_classes() -> None:
    store = SessionStore()
    log = EventLog(10)
    session = logged_in(store)
    session.set_filter(OnlyName("Newchannel"))
    assert session.wants(log.append(Message.of(("Event", "Newchannel"))))
    assert not session.wants(log.append(Message.of(("Event", "Hangup"))))
    session.set_filter(None)
    assert session.wants(log.append(Message.of(("Event", "Hangup"))))


def test_pending_moves_the_cursor_past_what_it_looked_at() -> None:
    log = EventLog(10)
    session = logged_in(SessionStore(), read=CALL)
    log.append(Message.of(("Event", "A"), ("Privilege", "call,all")))
    log.append(Message.of(("Event", "B"), ("Privilege", "system,all")))
    lost, events, cursor = session.pending(log)
    assert (lost, [e.name for e in events], cursor) == (0, ["a"], 2)
    assert session.has_pending(log.since(0)[1])
    session.move_cursor(cursor)
    assert not session.has_pending(log.since(0)[1])


def test_unauthenticated_sessions_want_nothing_and_waitevent_turns_events_on() -> None:
    log = EventLog(10)
    session = SessionStore().create("a", 0.0, 0)
    assert not session.wants(log.append(Message.of(("Event", "A"))))
    session.enable_events_for_wait()
    assert session.send_events == ALL
    session.set_event_mask(CALL)
    session.enable_events_for_wait()
    assert session.send_events == CALL


def test_count_user_and_iteration() -> None:
    store = SessionStore()
    logged_in(store)
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


def test_log_in_takes_the_users_rights_and_filter() -> None:
    session = SessionStore().create("127.0.0.1", 0.0, 0)
    user_filter = OnlyName("Newchannel")
    session.log_in(Identity("admin", CALL, 0, user_filter))
    assert session.authenticated
    assert session.identity is not None
    assert session.identity.event_filter is user_filter
    assert session.event_filter is None  # the session's own filters stay apart


def test_pending_keeps_another_sessions_private_events_out() -> None:
    store = SessionStore()
    log = EventLog(10)
    mine, other = logged_in(store), logged_in(store)
    log.append(Message.of(("Event", "OriginateResponse")), owner=mine.key, private=True)
    assert [e.name for e in mine.pending(log)[1]] == ["originateresponse"]
    assert other.pending(log)[1] == []
    assert other.pending(log)[2] == 1


def test_repr_names_the_session_and_its_user_only() -> None:
    session = SessionStore(node_id="n").create("10.0.0.1", 0.0, 0)
    session.ensure_challenge(lambda: "4711")
    assert repr(session) == f"Session(id={session.id!r}, key={session.key!r}, user=None)"
    session.log_in(Identity("admin", ALL, ALL))
    assert repr(session).endswith("user='admin')")
    assert "4711" not in repr(session)


def test_pending_with_nothing_new_keeps_the_cursor_and_a_cut_may_keep_all() -> None:
    store = SessionStore()
    log = EventLog(10)
    session = logged_in(store)
    assert session.pending(log) == (0, [], session.cursor)
    events = [log.append(Message.of(("Event", "E"), ("Privilege", "call,all"))) for _ in range(3)]
    lost, got, cursor = session.pending(log, max_bytes=10_000)
    assert (lost, got, cursor) == (0, events, events[-1].seq)
