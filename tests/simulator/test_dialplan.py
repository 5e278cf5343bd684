"""The dialplan interpreter: targets, variables, Dial, Queue and originate modes."""

from __future__ import annotations

import asyncio

import pytest

from gateway.simulator.channels import Channel
from gateway.simulator.dialplan import OriginateRequest, Target, parse_target
from gateway.simulator.pbx import Pbx
from tests.support.simclient import Recorder, until_idle


@pytest.mark.parametrize(
    ("channel", "target"),
    [
        ("Local/100@test", Target("100", "test", True)),
        ("local/600@test/n", Target("600", "test", False)),
        ("Local/999@test", None),
        ("Local/100@other", None),
        ("Local/100", None),
        ("PJSIP/100", None),
        ("Local", None),
    ],
)
def test_parse_target(channel: str, target: Target | None) -> None:
    assert parse_target(channel) == target


def test_dialstring() -> None:
    assert Target("100", "test", True).dialstring == "100@test"


async def test_variables_functions_and_builtins(pbx: tuple[Pbx, Recorder]) -> None:
    sim, recorder = pbx
    plan = sim.dialplan
    plan.set_variable(None, "G", "global")
    assert recorder[-1].fields[2:] == (
        ("Channel", "none"),
        ("Uniqueid", "none"),
        ("Variable", "G"),
        ("Value", "global"),
    )
    chan = Channel("Local/100@test-00000000;1", "7.0", "7.0", "test", "100", 0.0)
    chan.cid_num = "555"
    plan.set_variable(chan, "V", "local")
    assert plan.get_variable(None, "G") == "global"
    assert plan.get_variable(chan, "G") == "global"
    assert plan.get_variable(chan, "V") == "local"
    assert plan.get_variable(None, "V") == ""
    assert plan.get_variable(None, "LEN(hello)") == "5"
    assert plan.get_variable(chan, "CALLERID(num)") == "555"
    assert plan.get_variable(chan, "NOSUCHFUNC(x)") == ""
    assert plan.get_variable(chan, "UNIQUEID") == "7.0"
    assert plan.get_variable(chan, "CHANNEL") == chan.name


async def test_700_sets_a_variable_on_its_dialplan_side(pbx: tuple[Pbx, Recorder]) -> None:
    sim, recorder = pbx
    call = sim.originate(OriginateRequest("Local/700@test", application="Wait", data="1"))
    assert call is not None
    await until_idle(sim)
    varset = next(m for m in recorder if m.name == "VarSet")
    assert (varset.get("Channel"), varset.get("Variable"), varset.get("Value")) == (
        call.two.name,
        "TESTVAR",
        "hello",
    )


async def test_dial_runs_a_second_pair_linked_to_the_first(pbx: tuple[Pbx, Recorder]) -> None:
    sim, recorder = pbx
    call = sim.originate(OriginateRequest("Local/400@test", application="Wait", data="10"))
    assert call is not None
    assert await sim.wait_answered(call)
    await until_idle(sim)
    callee = [
        m for m in recorder if m.name == "Newchannel" and "Local/100@" in (m.get("Channel") or "")
    ]
    assert len(callee) == 2
    assert {m.get("Linkedid") for m in callee} == {call.one.uniqueid}
    begin = next(m for m in recorder if m.name == "DialBegin" and m.get("Channel") == call.two.name)
    assert begin.get("DialString") == "100@test"
    # 100 hangs up after its Wait 2; Dial returns and 400's dialplan runs out.
    assert recorder.names().count("Hangup") == 4
    last_cdr = [m for m in recorder if m.name == "Cdr" and m.get("Channel") == call.two.name]
    assert last_cdr[0].get("LastApplication") == "Dial"


async def test_queue_connects_the_member_and_counts_the_call(pbx: tuple[Pbx, Recorder]) -> None:
    sim, recorder = pbx
    before = sim.dialplan.queue.completed
    call = sim.originate(OriginateRequest("Local/500@test", application="Wait", data="100"))
    assert call is not None
    assert await sim.wait_answered(call)
    assert sim.dialplan.queue.member_in_call
    await until_idle(sim)
    names = recorder.names()
    order = ["QueueCallerJoin", "AgentCalled", "QueueCallerLeave", "AgentConnect", "AgentComplete"]
    assert [n for n in names if n in order] == order
    assert sim.dialplan.queue.completed == before + 1
    assert not sim.dialplan.queue.member_in_call
    assert sim.dialplan.queue.callers == 0


async def test_originate_to_an_extension_runs_it_on_the_first_side(
    pbx: tuple[Pbx, Recorder],
) -> None:
    sim, recorder = pbx
    request = OriginateRequest("Local/600@test", context="test", exten="300")
    call = sim.originate(request)
    assert call is not None
    await sim.wait_answered(call)
    async with asyncio.timeout(5):
        while "UserEvent" not in recorder.names():
            await asyncio.sleep(0.001)
    user_event = next(m for m in recorder if m.name == "UserEvent")
    assert user_event.get("Channel") == call.one.name
    assert (user_event.get("Foo"), user_event.get("Baz")) == ("bar", "qux")
    await until_idle(sim)
    assert call.one.exten == "300"


async def test_outgoing_applications(pbx: tuple[Pbx, Recorder]) -> None:
    sim, _ = pbx
    quick = sim.originate(OriginateRequest("Local/600@test", application="Hangup"))
    echo = sim.originate(OriginateRequest("Local/600@test", application="Echo"))
    assert quick is not None
    assert echo is not None
    async with asyncio.timeout(5):
        await quick.finished.wait()
    assert not echo.finished.is_set()
    assert echo.one.app == "Echo"


async def test_a_dial_to_nowhere_sets_dialstatus(pbx: tuple[Pbx, Recorder]) -> None:
    sim, _ = pbx
    call = sim.originate(OriginateRequest("Local/600@test", application="Wait", data="5"))
    assert call is not None
    await sim.dialplan._dial(call, call.two, "Local/999@test")
    assert call.two.variables["DIALSTATUS"] == "CHANUNAVAIL"
