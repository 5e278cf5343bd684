"""Channel snapshots and event builders against the captured events."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.ami.message import Message
from gateway.simulator.channels import (
    CAUSE_NORMAL,
    STATE_UP,
    Channel,
    ManualClock,
    SimClock,
    cdr,
    dial_begin,
    event,
    hangup,
    localbridge,
    newcallerid,
    newchannel,
)
from tests.support.amimask import parse_stream
from tests.support.fixturedata import ami_recv


def _captured(case: str, name: str, channel_suffix: str = ";1") -> Message:
    for m in parse_stream(ami_recv(case)):
        chan = m.get("Channel") or m.get("DestChannel") or m.get("LocalOneChannel") or ""
        if m.name == name and chan.endswith(channel_suffix):
            return m
    raise AssertionError(f"no {name} in {case}")


def _like(captured: Message) -> Channel:
    """A channel holding the captured Newchannel's values."""
    return Channel(
        name=captured.get("Channel") or "",
        uniqueid=captured.get("Uniqueid") or "",
        linkedid=captured.get("Linkedid") or "",
        context="test",
        exten=captured.get("Exten") or "",
        created=time.time(),
    )


def test_newchannel_is_the_captured_event() -> None:
    captured = _captured("originate_async_events", "Newchannel")
    assert Message(newchannel(_like(captured))) == captured


def test_dial_begin_without_caller_is_the_captured_event() -> None:
    captured = _captured("originate_async_events", "Newchannel")
    begin = _captured("originate_async_events", "DialBegin")
    assert Message(dial_begin(None, _like(captured), "100@test")) == begin


def test_localbridge_is_the_captured_event() -> None:
    one = _captured("originate_async_events", "Newchannel", ";1")
    two_event = _captured("originate_async_events", "Newchannel", ";2")
    two = _like(two_event)
    two.state = 4
    assert Message(localbridge(_like(one), two, True)) == _captured(
        "originate_async_events", "LocalBridge"
    )


def test_newcallerid_keeps_utf8_and_calling_pres() -> None:
    chan = Channel("Local/100@test-00000001;1", "1.1", "1.1", "test", "100", time.time())
    chan.cid_name, chan.cid_num = "Иван Петров", "100"
    fields = dict(newcallerid(chan))
    assert fields["CallerIDName"] == "Иван Петров"
    assert fields["ConnectedLineNum"] == "<unknown>"
    assert fields["CID-CallingPres"] == "0 (Presentation Allowed, Not Screened)"


def test_hangup_cause_text() -> None:
    chan = Channel("Local/300@test-00000001;2", "1.2", "1.1", "test", "300", time.time())
    chan.state = STATE_UP
    fields = hangup(chan, CAUSE_NORMAL)
    assert fields[-2:] == (("Cause", "16"), ("Cause-txt", "Normal Clearing"))
    assert dict(hangup(chan, 99))["Cause-txt"] == "Unknown"


def test_cdr_has_the_captured_fields_and_values() -> None:
    captured = _captured("originate_async_events", "Cdr")
    chan = Channel(captured.get("Channel") or "", "1.28", "1.28", "test", "100", 1000.0)
    chan.answered = 1000.0
    built = Message(cdr(chan, "100", ("Wait", "1"), 1001.5))
    assert [name for name, _ in built] == [name for name, _ in captured]
    stable = ("Destination", "CallerID", "LastApplication", "LastData", "Disposition", "Source")
    for name in stable:
        assert built.get(name) == captured.get(name), name
    assert built.get("Duration") == "1"
    assert built.get("BillableSeconds") == "1"


def test_cdr_of_an_unanswered_channel() -> None:
    chan = Channel("Local/100@test-00000001;1", "1.1", "1.1", "test", "100", 1000.0)
    fields = dict(cdr(chan, "100", ("AppDial2", "(Outgoing Line)"), 1003.0))
    assert fields["Disposition"] == "NO ANSWER"
    assert fields["AnswerTime"] == ""
    assert fields["BillableSeconds"] == "0"


def test_event_privilege_and_device() -> None:
    assert event("X", "call")[:2] == (("Event", "X"), ("Privilege", "call,all"))
    chan = Channel("Local/100@test-0000002c;1", "1.1", "1.1", "test", "100", 0.0)
    assert chan.device == "Local/100@test"


async def test_clock_runs_faster_with_a_small_scale() -> None:
    clock = SimClock(0.01)
    before = clock.now()
    await clock.sleep(1.0)  # 10 ms of real time
    assert clock.now() - before >= 0.9
    with pytest.raises(ValueError, match="positive"):
        SimClock(0)


async def test_clock_sleep_is_scaled() -> None:
    clock = SimClock(0.001)
    async with asyncio.timeout(2):  # 5 simulated seconds take 5 ms
        await clock.sleep(5)


async def test_manual_clock_moves_only_when_told_and_wakes_in_deadline_order() -> None:
    clock = ManualClock()
    before, woken = clock.now(), []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woken.append((name, clock.elapsed))

    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in (("b", 2.0), ("a", 1.0), ("c", 2.0))]
    await asyncio.sleep(0.05)  # real time passes, simulated time does not
    assert (woken, clock.now()) == ([], before)
    assert clock.next_deadline() == 1.0
    assert clock.wake_next(1.5)
    await asyncio.sleep(0)  # the woken sleeper runs before time moves on
    assert not clock.wake_next(1.5)  # nothing else due by 1.5: time moves there
    assert clock.elapsed == 1.5
    while clock.wake_next(5.0):
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert woken == [("a", 1.0), ("b", 2.0), ("c", 2.0)]  # equal deadlines: in sleep order
    assert clock.now() == before + 5.0


async def test_manual_clock_forgets_a_cancelled_sleeper() -> None:
    clock = ManualClock()
    task = asyncio.create_task(clock.sleep(1.0))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.next_deadline() is None
    assert not clock.wake_next(2.0)
