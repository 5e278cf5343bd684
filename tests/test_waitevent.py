from __future__ import annotations

import asyncio

import pytest

from gateway.ami.message import Message
from gateway.classes import ALL
from gateway.events import EventLog
from gateway.sessions import Identity, SessionStore
from gateway.waitevent import Notifier, PollWaiter, parse_timeout


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
    notifier = Notifier(log, store)
    admin = store.create("a", 0.0, 0)
    admin.identity = Identity("admin", ALL, ALL)
    admin.send_events = ALL
    nobody = store.create("b", 0.0, 0)
    nobody.identity = Identity("nobody", 0, 0)
    nobody.send_events = ALL
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
