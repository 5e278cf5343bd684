"""What an SSE stream may see: the session's rules, exactly as waitevent's."""

from __future__ import annotations

import pytest

from gateway.ami.message import Message
from gateway.app import GATEWAY
from gateway.simulator import Simulator
from tests.support.harness import basic, narrow_users, user_event
from tests.support.pushclient import EVENTS, Serve, ajam, cookie, login, until_marker
from tests.support.sseclient import SseClient

SECRET_EVENTS = (
    Message.of(("Event", "Cdr"), ("Privilege", "cdr,all"), ("Source", "100")),
    Message.of(("Event", "InvalidPassword"), ("Privilege", "security,all"), ("AccountID", "x")),
    Message.of(("Event", "Mixed"), ("Privilege", "call,security,all"), ("Note", "both")),
    Message.of(("Event", "CdrCall"), ("Privilege", "call,cdr"), ("Note", "both")),
    Message.of(("Event", "UserEvent"), ("Privilege", "user,all"), ("UserEvent", "User")),
)


@pytest.mark.parametrize("way", ["cookie", "param", "basic"])
async def test_a_reader_never_sees_cdr_user_or_security_events(
    serve: Serve, simulator: Simulator, way: str
) -> None:
    _, base = await serve()
    session = await login(base, "reader")
    path, headers = EVENTS, cookie(session)
    if way == "param":
        path, headers = f"{EVENTS}?mansession_id={session}", {}
    elif way == "basic":
        headers = basic("reader")
    stream = await SseClient.open(base, path, headers)
    assert stream.head.status == 200
    for message in SECRET_EVENTS:
        simulator.emit(list(message.fields))
    await ajam(base, await login(base, "admin"), "action=ping")  # an admin login: security
    simulator.emit(user_event("Seen", "call,all"))
    got = await until_marker(stream, "Seen")
    assert [m.event for m in got] == ["UserEvent"]
    await stream.close()


async def test_the_config_ceiling_and_the_sessions_own_filter_apply(
    serve: Serve, simulator: Simulator
) -> None:
    _, base = await serve(users=narrow_users(["UserEvent: (Public|Other|End)"]))
    session = await login(base, "narrow")
    added = await ajam(base, session, "action=filter&operation=add&filter=!UserEvent:%20Other")
    assert added["response"]["Message"] == "Success"
    stream = await SseClient.open(base, EVENTS, cookie(session))
    for name in ("Secret", "Other", "Public", "End"):
        simulator.emit(user_event(name))
    got = await until_marker(stream, "End")
    assert [m.json["UserEvent"] for m in got] == ["Public", "End"]
    await stream.close()


async def test_the_event_mask_applies_live(serve: Serve, simulator: Simulator) -> None:
    _, base = await serve()
    session = await login(base)
    stream = await SseClient.open(base, f"{EVENTS}?events=UserEvent", cookie(session))
    simulator.emit(user_event("Before"))
    assert [m.json["UserEvent"] for m in await stream.events(1)] == ["Before"]
    masked = await ajam(base, session, "action=events&eventmask=call")
    assert masked["response"]["Events"] == "On"
    simulator.emit(user_event("Hidden"))
    simulator.emit(user_event("Shown", "call,all"))
    assert [m.json["UserEvent"] for m in await stream.events(1)] == ["Shown"]
    await stream.close()


ORIGINATE = "action=originate&channel=Local/100@test&application=Wait&data=1&async=true"
OWNER_ONLY = {
    "secret": "owner-secret",
    "read": "call,user",
    "write": "originate,call",
    "originate_response": "owner",
}
"""A user who takes only its own sessions' async results (issue 13, item 5)."""


async def test_an_async_originate_answer_reaches_every_call_reader_with_its_action_id(
    serve: Serve, simulator: Simulator
) -> None:
    """As Asterisk delivers it (and waitevent and the AMI door do): every
    session that may read ``call`` gets the OriginateResponse, another user's
    too, with the originator's own ActionID."""
    _, base = await serve()
    mine, watcher = await login(base), await login(base, "reader")
    streams = [
        await SseClient.open(base, f"{EVENTS}?events=OriginateResponse,UserEvent", cookie(s))
        for s in (mine, watcher)
    ]
    answer = await ajam(base, mine, ORIGINATE + "&actionid=o1")
    assert answer["response"]["Response"] == "Success"
    for stream in streams:
        (response,) = await stream.events(1)
        assert response.event == "OriginateResponse"
        assert response.json["ActionID"] == "o1"
        await stream.close()


async def test_an_owner_only_user_streams_only_its_own_sessions_originate_answers(
    serve: Serve, simulator: Simulator
) -> None:
    _, base = await serve(users={"owner": OWNER_ONLY})
    mine, other = await login(base, "owner"), await login(base, "owner")
    streams = [
        await SseClient.open(base, f"{EVENTS}?events=OriginateResponse,UserEvent", cookie(s))
        for s in (mine, other)
    ]
    answer = await ajam(base, mine, ORIGINATE + "&actionid=o1")
    assert answer["response"]["Response"] == "Success"
    (response,) = await streams[0].events(1)
    assert response.event == "OriginateResponse"
    assert response.json["ActionID"] == "o1"
    simulator.emit(user_event("End"))
    got = await until_marker(streams[1], "End")
    assert [m.event for m in got] == ["UserEvent"]
    for stream in streams:
        await stream.close()


async def test_a_stream_and_a_poll_on_one_session_do_not_disturb_each_other(
    serve: Serve, simulator: Simulator
) -> None:
    _, base = await serve()
    session = await login(base)
    await ajam(base, session, "action=waitevent&timeout=0")
    stream = await SseClient.open(base, f"{EVENTS}?events=UserEvent", cookie(session))
    simulator.emit(user_event("Both"))
    polled = await ajam(base, session, "action=waitevent&timeout=2")
    assert [e.get("UserEvent") for e in polled["events"]] == ["Both", None]  # + WaitEventComplete
    streamed = await stream.events(1)
    assert streamed[0].json == polled["events"][0]
    ping = await ajam(base, session, "action=ping&actionid=p")
    assert ping["response"]["Ping"] == "Pong"
    simulator.emit(user_event("Again"))
    assert [m.json["UserEvent"] for m in await stream.events(1)] == ["Again"]
    await stream.close()


async def test_a_logoff_or_a_drain_ends_the_stream_with_its_reason(
    serve: Serve, simulator: Simulator
) -> None:
    app, base = await serve()
    gateway = app[GATEWAY]
    session = await login(base)
    stream = await SseClient.open(base, f"{EVENTS}?events=UserEvent", cookie(session))
    await ajam(base, session, "action=logoff")
    (closed,) = await stream.events(1)
    assert closed.event == "GatewayStreamClosed"
    assert closed.json == {
        "Event": "GatewayStreamClosed",
        "Privilege": "system,all",
        "Reason": "session",
    }
    assert await stream.next() is None  # the end of the response
    await stream.close()
    by_basic = await SseClient.open(base, f"{EVENTS}?events=UserEvent", basic("admin"))
    await by_basic.next()
    assert gateway.sessions.authenticated_count() == 1  # opened for the stream
    gateway.push.drain()
    (closed,) = await by_basic.events(1)
    assert closed.json["Reason"] == "shutdown"
    assert await by_basic.next() is None
    await by_basic.close()
    assert gateway.sessions.authenticated_count() == 0  # it ended with its stream
    refused = await SseClient.open(base, EVENTS, basic("admin"))
    assert refused.head.status == 503  # draining: no new streams
    await refused.close()


async def test_stream_limits_per_session_and_address(serve: Serve) -> None:
    _, base = await serve(push={"max_streams_per_session": 1, "max_streams_per_address": 2})
    session = await login(base)
    first = await SseClient.open(base, EVENTS, cookie(session))
    second = await SseClient.open(base, EVENTS, cookie(session))
    assert (first.head.status, second.head.status) == (200, 429)
    other = await SseClient.open(base, EVENTS, cookie(await login(base)))
    third = await SseClient.open(base, EVENTS, cookie(await login(base)))
    assert (other.head.status, third.head.status) == (200, 429)
    for stream in (first, second, other, third):
        await stream.close()
