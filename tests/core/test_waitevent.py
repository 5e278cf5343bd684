from __future__ import annotations

import asyncio

import pytest

from gateway.access.classes import ALL
from gateway.access.identity import Identity
from gateway.ami.message import Message
from gateway.core.eventpath import EventBatches
from gateway.core.events import EventLog
from gateway.core.metrics import Metrics
from gateway.core.sessions import Session, SessionStore
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
