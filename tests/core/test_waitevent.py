from __future__ import annotations

import asyncio

import pytest

from gateway.access.classes import ALL
from gateway.access.identity import Identity
from gateway.ami.message import Message
from gateway.core.eventpath import EventBatches
from gateway.core.events import EventLog
from gateway.core.metrics import Metrics
from gateway.core.numbering import SEQ_EPOCH, Numbering
from gateway.core.replies import Reply
from gateway.core.sessions import Session
from gateway.core.sessionstore import SessionStore
from gateway.core.waitevent import Notifier, Polls, PollWaiter, parse_timeout, wait_for_events


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, 50.0),
        ("-1", 50.0),
        ("-5", 50.0),
        ("0", 0.0),
        ("2", 2.0),
        ("2.5", 2.5),
        ("999", 50.0),
        ("7abc", 7.0),
        ("abc", 50.0),
        ("nan", 50.0),
    ],
)
def test_timeout_rules(value: str | None, seconds: float) -> None:
    assert parse_timeout(value, 50.0) == seconds


async def test_notifier_wakes_only_sessions_that_want_the_events() -> None:
    log = EventLog(10)
    store = SessionStore()
    notifier = Notifier(EventBatches(log).listen(), store)
    admin = store.create("a", 0.0, 0)
    admin.log_in(Identity("admin", ALL, ALL))
    admin.set_event_mask(ALL)
    nobody = store.create("b", 0.0, 0)
    nobody.log_in(Identity("nobody", 0, 0))
    nobody.set_event_mask(ALL)
    woken, idle = PollWaiter(), PollWaiter()
    store.set_waiter(admin, woken)
    store.set_waiter(nobody, idle)
    for _ in range(3):  # one burst, one flush
        log.append(Message.of(("Event", "Newchannel"), ("Privilege", "call,all")))
    await asyncio.sleep(0)
    assert woken.future.done()
    assert not woken.kicked
    assert not idle.future.done()
    notifier.close()
    log.append(Message.of(("Event", "X")))
    await asyncio.sleep(0)
    assert not idle.future.done()


async def test_kick_wakes_and_marks() -> None:
    waiter = PollWaiter()
    waiter.kick()
    waiter.wake()  # a second resolution is harmless
    assert waiter.kicked
    assert waiter.future.done()


def polls_of(batch: int = 10) -> Polls:
    """A poll context with a small batch: a few events span several slices."""
    log, sessions = EventLog(1000), SessionStore()
    return Polls(log, sessions, Metrics(), waitevent_max=5.0, waitevent_batch=batch)


class OnlyWanted:
    """A filter passing ``Event: Wanted`` and counting how often it is asked."""

    def __init__(self) -> None:
        self.calls = 0

    def matches(self, text: str, message: Message) -> bool:
        self.calls += 1
        return message.name == "Wanted"


def reader(polls: Polls, predicate: OnlyWanted) -> Session:
    session = polls.sessions.create("a", 0.0, polls.log.last_seq)
    session.log_in(Identity("admin", ALL, ALL))
    session.set_filter(predicate)
    return session


def append(log: EventLog, name: str, count: int = 1) -> None:
    for _ in range(count):
        log.append(Message.of(("Event", name), ("Privilege", "call,all")))


async def test_a_backlog_larger_than_a_batch_does_not_hide_a_wanted_event() -> None:
    polls = polls_of()
    session = reader(polls, OnlyWanted())
    append(polls.log, "Noise", 25)  # 2.5 batches nobody wants
    append(polls.log, "Wanted")
    async with asyncio.timeout(2):  # the poll's own timeout is 5 s
        reply = await wait_for_events(polls, session, [("Timeout", "5")])
    assert [e.name for e in reply.events] == ["wanted"]
    assert session.cursor == polls.log.last_seq


async def test_a_woken_poll_does_not_rescan_what_it_already_looked_at() -> None:
    polls = polls_of(batch=1000)
    notifier = Notifier(EventBatches(polls.log).listen(), polls.sessions)
    predicate = OnlyWanted()
    session = reader(polls, predicate)
    append(polls.log, "Noise", 50)
    poll = asyncio.create_task(wait_for_events(polls, session, [("Timeout", "5")]))
    await asyncio.sleep(0)
    assert predicate.calls == 50  # the backlog, once
    assert not poll.done()
    append(polls.log, "Wanted")
    async with asyncio.timeout(2):
        reply = await poll
    assert [e.name for e in reply.events] == ["wanted"]
    assert predicate.calls == 52  # + the notifier's look + the new event, not 50 again
    assert session.cursor == polls.log.last_seq
    notifier.close()


# -- resuming by cursor: overruns and foreign cursors -----------------------------------


def boot_polls(capacity: int = 1000, lane: int = 3) -> Polls:
    numbering = Numbering.at_boot(SEQ_EPOCH + 1e7, lane)
    return Polls(EventLog(capacity, numbering=numbering), SessionStore(), Metrics(), 5.0)


def admin_of(polls: Polls) -> Session:
    session = polls.sessions.create("a", 0.0, polls.log.last_seq)
    session.log_in(Identity("admin", ALL, ALL))
    return session


def notice_of(reply: Reply) -> dict[str, str] | None:
    [*_, last] = reply.head
    return dict(last.fields) if last.get("Event") == "GatewayEventsLost" else None


async def test_a_restarted_gateway_tells_an_old_cursor_and_gives_all_it_holds() -> None:
    polls = boot_polls(capacity=3)
    session = admin_of(polls)
    append(polls.log, "E", 5)  # two already dropped by the ring
    old = Numbering.at_boot(SEQ_EPOCH + 1e7 - 3600, 3).seq(40)  # an hour-older boot's cursor
    async with asyncio.timeout(2):  # foreign: answered at once, not after Timeout=5
        reply = await wait_for_events(polls, session, [("Cursor", str(old)), ("Timeout", "5")])
    assert notice_of(reply) == {
        "Event": "GatewayEventsLost",
        "Privilege": "system,all",
        "Lost": "2",
        "Reason": "Restart",
    }
    assert [e.seq for e in reply.events] == [polls.log.numbering.seq(n) for n in (3, 4, 5)]
    assert reply.tail[0].get("Cursor") == str(polls.log.last_seq)
    again = await wait_for_events(polls, session, [("Cursor", str(polls.log.last_seq))])
    assert (notice_of(again), again.events) == (None, ())


async def test_an_empty_ring_still_answers_a_foreign_cursor_at_once() -> None:
    polls = boot_polls()
    session = admin_of(polls)
    beyond = polls.log.last_seq + 128
    async with asyncio.timeout(2):
        reply = await wait_for_events(polls, session, [("Cursor", str(beyond)), ("Timeout", "5")])
    assert notice_of(reply) == {
        "Event": "GatewayEventsLost",
        "Privilege": "system,all",
        "Lost": "0",
        "Reason": "Restart",
    }
    assert reply.tail[0].get("Cursor") == str(polls.log.origin)


async def test_an_overrun_of_this_rings_cursor_says_so() -> None:
    polls = boot_polls(capacity=2)
    session = admin_of(polls)
    start = polls.log.last_seq
    append(polls.log, "E", 5)
    reply = await wait_for_events(polls, session, [("Cursor", str(start)), ("Timeout", "0")])
    notice = notice_of(reply)
    assert notice is not None
    assert (notice["Lost"], notice["Reason"]) == ("3", "Overrun")
    assert len(reply.events) == 2


async def test_a_kicked_poll_leaves_the_restart_notice_to_the_newer_one() -> None:
    polls = boot_polls()
    session = admin_of(polls)
    older = asyncio.create_task(wait_for_events(polls, session, [("Cursor", ""), ("Timeout", "5")]))
    await asyncio.sleep(0)
    assert session.waiter is not None
    stale = str(polls.log.last_seq + 1)  # another lane's: foreign
    async with asyncio.timeout(2):
        newer = await wait_for_events(polls, session, [("Cursor", stale), ("Timeout", "5")])
        kicked = await older
    assert notice_of(kicked) is None
    assert notice_of(newer) is not None
    assert session.missed is None
