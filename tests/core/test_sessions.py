"""A session's own rules: which events it wants, what is pending for it, its
login (the store that holds sessions is tests/core/test_sessionstore.py)."""

from __future__ import annotations

from gateway.access.classes import ALL, CLASS_BITS
from gateway.access.identity import Identity, OriginateResponses
from gateway.ami.message import Message
from gateway.core.events import EventLog
from gateway.core.sessions import Session
from gateway.core.sessionstore import SessionStore

CALL = CLASS_BITS["call"]
SYSTEM = CLASS_BITS["system"]


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
