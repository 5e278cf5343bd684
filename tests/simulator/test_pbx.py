"""The simulated PBX on its own: calls, their ends, and their event sequences."""

from __future__ import annotations

import asyncio

from gateway.ami.message import Message
from gateway.simulator.dialplan import OriginateRequest
from gateway.simulator.pbx import Pbx, originate_response
from tests.support.amimask import channel_histories, masked, parse_stream
from tests.support.fixturedata import ami_recv
from tests.support.simclient import Recorder, until_idle


def _app(
    exten: str,
    seconds: str,
    *,
    action_id: str = "",
    callerid: tuple[str, str] = ("", ""),
    variables: tuple[tuple[str, str], ...] = (),
) -> OriginateRequest:
    return OriginateRequest(
        f"Local/{exten}@test",
        application="Wait",
        data=seconds,
        action_id=action_id,
        callerid=callerid,
        variables=variables,
    )


def _events_of(case: str) -> list[Message]:
    return [
        m for m in parse_stream(ami_recv(case)) if m.kind == "event" and m.name != "FullyBooted"
    ]


async def test_a_call_ended_by_its_application_is_the_captured_call(
    pbx: tuple[Pbx, Recorder],
) -> None:
    sim, recorder = pbx
    call = sim.originate(_app("100", "1", action_id="orig-async-1"))
    assert call is not None
    assert await sim.wait_answered(call)
    await until_idle(sim)
    captured = [m for m in _events_of("originate_async_events") if m.name != "SuccessfulAuth"]
    assert sorted(map(repr, masked(recorder))) == sorted(map(repr, masked(captured)))
    assert channel_histories(masked(recorder)) == channel_histories(masked(captured))


async def test_a_call_ended_by_the_dialplan_is_the_captured_call(pbx: tuple[Pbx, Recorder]) -> None:
    sim, recorder = pbx
    sim.originate(_app("300", "3", action_id="orig-300-1"))
    await until_idle(sim)
    captured = [m for m in _events_of("dialplan_userevent") if m.name != "SuccessfulAuth"]
    assert sorted(map(repr, masked(recorder))) == sorted(map(repr, masked(captured)))


async def test_hanging_up_the_dialplan_side(pbx: tuple[Pbx, Recorder]) -> None:
    sim, recorder = pbx
    call = sim.originate(_app("600", "20"))
    assert call is not None
    await sim.wait_answered(call)
    sim.hangup([call.two])
    await until_idle(sim)
    tail = recorder.names()[recorder.names().index("SoftHangupRequest") :]
    assert tail[:3] == ["SoftHangupRequest", "HangupRequest", "Cdr"]
    assert tail.count("Hangup") == 2
    assert tail[-2:] == ["DeviceStateChange", "DeviceStateChange"]


async def test_hanging_up_only_the_originated_side(pbx: tuple[Pbx, Recorder]) -> None:
    sim, recorder = pbx
    call = sim.originate(_app("600", "20"))
    assert call is not None
    await sim.wait_answered(call)
    sim.hangup([call.one, call.one])
    await until_idle(sim)
    first = recorder.of("HangupRequest")[0]
    assert first.get("Channel") == call.two.name
    assert first.get("Cause") == "0"


async def test_a_failed_destination_answers_failure(pbx: tuple[Pbx, Recorder]) -> None:
    sim, recorder = pbx
    assert sim.originate(_app("999", "1", action_id="x")) is None
    assert sim.originate(OriginateRequest("PJSIP/100", announce=False)) is None
    assert recorder.names() == ["OriginateResponse"]
    response = recorder[0]
    assert (response.get("Response"), response.get("Reason")) == ("Failure", "0")
    assert (response.get("Channel"), response.get("Uniqueid")) == ("Local/999@test", "<null>")
    assert response.fields[2] == ("ActionID", "x")


async def test_callerid_and_variables_as_captured(pbx: tuple[Pbx, Recorder]) -> None:
    sim, recorder = pbx
    request = _app("600", "20", callerid=("Иван Петров", "100"), variables=(("A", "1"), ("B", "2")))
    call = sim.originate(request)
    assert call is not None
    names = recorder.names()
    assert names[3:7] == ["NewCallerid", "NewConnectedLine", "NewCallerid", "NewConnectedLine"]
    varsets = [(m.get("Channel"), m.get("Variable")) for m in recorder.of("VarSet")]
    one, two = call.one.name, call.two.name
    assert varsets == [(one, "B"), (one, "A"), (two, "A"), (two, "B")]
    assert call.two.variables == {"A": "1", "B": "2"}
    assert names.index("VarSet") < names.index("LocalBridge")


async def test_close_stops_calls_without_events(pbx: tuple[Pbx, Recorder]) -> None:
    sim, recorder = pbx
    call = sim.originate(_app("600", "20"))
    assert call is not None
    await sim.wait_answered(call)
    count = len(recorder)
    await sim.close()
    await asyncio.sleep(0.01)
    assert len(recorder) == count
    assert not sim.channels
    assert call.finished.is_set()


async def test_channels_are_found_without_regard_to_case(pbx: tuple[Pbx, Recorder]) -> None:
    sim, _ = pbx
    call = sim.originate(_app("600", "20"))
    assert call is not None
    assert sim.find(call.one.name.upper()) is call.one
    assert sim.call_of(call.two) is call
    assert sim.find("Local/nonexistent-00000000;1") is None
    assert call.one.name.endswith("-00000000;1")
    assert call.two.linkedid == call.one.uniqueid != call.two.uniqueid


async def test_a_call_that_ends_unanswered_reports_failure(pbx: tuple[Pbx, Recorder]) -> None:
    sim, recorder = pbx
    call = sim.originate(_app("600", "20", action_id="early"))
    assert call is not None
    sim.hangup([call.two])  # before the dialplan ran Answer
    assert not await sim.wait_answered(call)
    await until_idle(sim)
    response = recorder.of("OriginateResponse")[0]
    assert (response.get("Response"), response.get("Reason")) == ("Failure", "1")
    assert "DeviceStateChange" not in recorder.names()


def test_originate_response_for_an_extension() -> None:
    request = OriginateRequest("Local/100@test", context="test", exten="300")
    fields = dict(originate_response(request, None, 0))
    assert (fields["Context"], fields["Exten"]) == ("test", "300")
    assert "Application" not in fields
    assert "ActionID" not in fields


async def test_close_releases_those_waiting_for_a_call_that_never_ran(
    pbx: tuple[Pbx, Recorder],
) -> None:
    sim, _ = pbx
    call = sim.originate(_app("600", "20"))
    assert call is not None
    await sim.close()  # before the call's task had a chance to run
    assert not await sim.wait_answered(call)
    assert call.finished.is_set()
