"""``GET {prefix}/events``: Server-Sent Events over real loopback sockets."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import ClientSession

from gateway.app import GATEWAY
from gateway.core.events import EventLog
from gateway.simulator import Simulator
from tests.support.harness import basic, until, user_event
from tests.support.pushclient import EVENTS, Serve, ajam, cookie, login
from tests.support.sseclient import SseClient


def tick_of(log: EventLog, seq: int) -> str | None:
    event = log.get(seq)
    return None if event is None else event.message.get("UserEvent")


def seqs(log: EventLog, after: int) -> list[int]:
    """The seqs of the events the ring holds after ``after``, oldest first."""
    return [event.seq for event in log.since(after)[1]]


async def test_each_event_is_one_message_with_its_seq_name_and_json_object(
    serve: Serve, simulator: Simulator
) -> None:
    app, base = await serve()
    session = await login(base)
    stream = await SseClient.open(base, EVENTS, cookie(session))
    assert stream.head.status == 200
    assert stream.head.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert stream.head.headers["cache-control"] == "no-cache"
    assert stream.head.headers["x-accel-buffering"] == "no"
    opening = await stream.next()
    assert opening is not None
    assert opening.retry == "2000"
    assert opening.data == []
    # no cursor: the session's own, so the events since its login come first
    (own_login,) = await stream.events(1)
    assert own_login.event == "SuccessfulAuth"
    log = app[GATEWAY].log
    assert seqs(log, int(opening.id or 0)) == [int(own_login.id or 0)] == [log.last_seq]
    simulator.emit(user_event("One", Name="Иван", Dup="a"))
    simulator.emit(user_event("Two", Text="a\rb\x00c"))
    one, two = await stream.events(2)
    assert one.event == "UserEvent"
    assert seqs(log, int(own_login.id or 0)) == [int(one.id or 0), int(two.id or 0)]
    assert one.json == {
        "Event": "UserEvent",
        "Privilege": "user,all",
        "UserEvent": "One",
        "Name": "Иван",
        "Dup": "a",
    }
    # data is exactly the /json event object: the same bytes a poll gets
    assert two.json["Text"] == "a\rb\x00c"  # JSON escapes them: one line on the wire
    polled = await ajam(base, session, "action=waitevent&timeout=1")
    events = polled["events"]
    assert isinstance(events, list)
    assert [e for e in events if e.get("UserEvent") == "One"] == [one.json]
    await stream.close()


async def test_last_event_id_resumes_exactly_after_it(serve: Serve, simulator: Simulator) -> None:
    app, base = await serve()
    session = await login(base)
    first = await SseClient.open(base, f"{EVENTS}?events=UserEvent", cookie(session))
    for n in range(5):
        simulator.emit(user_event(f"E{n}"))
    got = await first.events(5)
    await first.close()
    ids = [int(m.id or 0) for m in got]
    assert seqs(app[GATEWAY].log, ids[0])[:4] == ids[1:]  # each the seq of its event
    resumed = await SseClient.open(base, EVENTS, {**cookie(session), "Last-Event-ID": str(ids[1])})
    opening = await resumed.next()
    assert opening is not None
    assert opening.id == str(ids[1])
    again = await resumed.events(3)
    assert [m.json["UserEvent"] for m in again] == ["E2", "E3", "E4"]
    await resumed.close()
    # a query cursor, for clients that cannot set headers; the header wins over it
    by_query = await SseClient.open(base, f"{EVENTS}?lastEventId={ids[3]}", cookie(session))
    assert [m.json["UserEvent"] for m in await by_query.events(1)] == ["E4"]
    await by_query.close()
    both = await SseClient.open(
        base, f"{EVENTS}?cursor={ids[0]}", {**cookie(session), "Last-Event-ID": str(ids[3])}
    )
    simulator.emit(user_event("E5"))
    assert [m.json["UserEvent"] for m in await both.events(2)] == ["E4", "E5"]
    await both.close()


async def test_a_cursor_older_than_the_ring_hears_events_lost_first(
    serve: Serve, simulator: Simulator
) -> None:
    app, base = await serve(events={"ring_size": 5})
    session = await login(base)
    start = app[GATEWAY].log.last_seq
    for n in range(8):
        simulator.emit(user_event(f"E{n}"))
    log = app[GATEWAY].log
    await until(lambda: tick_of(log, log.last_seq) == "E7")
    stream = await SseClient.open(base, EVENTS, {**cookie(session), "Last-Event-ID": str(start)})
    lost, *rest = await stream.events(6)
    assert lost.event == "GatewayEventsLost"
    assert lost.id is None  # not an event of the log
    assert lost.json == {
        "Event": "GatewayEventsLost",
        "Privilege": "system,all",
        "Lost": "3",
        "Reason": "Overrun",
    }
    assert [m.json["UserEvent"] for m in rest] == ["E3", "E4", "E5", "E6", "E7"]
    await stream.close()


async def test_events_narrows_by_name(serve: Serve, simulator: Simulator) -> None:
    _, base = await serve()
    session = await login(base)
    stream = await SseClient.open(base, f"{EVENTS}?events=hangup,Newchannel", cookie(session))
    simulator.emit(user_event("Skipped"))
    simulator.emit([("Event", "Newchannel"), ("Privilege", "call,all"), ("Channel", "A")])
    simulator.emit([("Event", "Hangup"), ("Privilege", "call,all"), ("Channel", "A")])
    got = await stream.events(2)
    assert [m.event for m in got] == ["Newchannel", "Hangup"]
    await stream.close()
    bad = await SseClient.open(base, f"{EVENTS}?events=,", cookie(session))
    assert bad.head.status == 400
    assert json.loads(await bad.body())["field"] == "events"
    await bad.close()


async def test_heartbeat_comments_at_the_configured_interval(serve: Serve) -> None:
    _, base = await serve(push={"heartbeat": 0.2})
    stream = await SseClient.open(base, EVENTS, basic("admin"))
    await stream.next()  # the opening
    seen = 0
    loop = asyncio.get_running_loop()
    started = loop.time()
    while seen < 3:
        message = await stream.next(timeout=2)
        assert message is not None
        seen += message.comment == ""
    assert loop.time() - started < 2.5
    await stream.close()


async def test_without_credentials_401_and_a_bad_cursor_400(serve: Serve) -> None:
    _, base = await serve()
    anonymous = await SseClient.open(base, EVENTS)
    assert anonymous.head.status == 401
    assert anonymous.head.headers["www-authenticate"].startswith("Basic")
    await anonymous.close()
    unknown = await SseClient.open(base, EVENTS, cookie("0" * 32))
    assert unknown.head.status == 401
    await unknown.close()
    wrong = await SseClient.open(base, EVENTS, basic("admin", "nope"))
    assert wrong.head.status == 401
    assert json.loads(await wrong.body()) == {"error": "Authentication failed"}
    await wrong.close()
    session = await login(base)
    bad = await SseClient.open(base, EVENTS, {**cookie(session), "Last-Event-ID": "x"})
    assert bad.head.status == 400
    await bad.close()
    async with ClientSession() as http:
        async with http.head(f"{base}{EVENTS}", headers=cookie(session)) as response:
            assert response.status == 405
        async with http.post(f"{base}{EVENTS}", headers=cookie(session)) as response:
            assert response.status == 405


async def test_basic_with_a_session_uses_it_or_names_another_user(serve: Serve) -> None:
    app, base = await serve(limits={"max_query": 100})
    session = await login(base)
    same = await SseClient.open(base, EVENTS, {**cookie(session), **basic("admin")})
    assert same.head.status == 200
    assert app[GATEWAY].sessions.authenticated_count() == 1  # no session of its own
    await same.close()
    other = await SseClient.open(base, EVENTS, {**cookie(session), **basic("reader")})
    assert other.head.status == 403
    assert json.loads(await other.body()) == {
        "error": "Authorization names another user than the session"
    }
    await other.close()
    long = await SseClient.open(base, f"{EVENTS}?events={'x' * 200}", cookie(session))
    assert long.head.status == 414
    await long.close()


async def test_a_cursor_this_ring_never_handed_out_hears_restart_then_everything(
    serve: Serve, simulator: Simulator
) -> None:
    app, base = await serve()
    session = await login(base)
    simulator.emit(user_event("Held"))
    log = app[GATEWAY].log
    await until(lambda: tick_of(log, log.last_seq) == "Held")
    foreign = {**cookie(session), "Last-Event-ID": "12345"}  # another boot's, another lane's
    stream = await SseClient.open(base, f"{EVENTS}?events=UserEvent", foreign)
    opening = await stream.next()
    assert opening is not None
    assert opening.id is None  # the client keeps its cursor until it hears the notice
    restart, held = await stream.events(2)
    assert restart.json == {
        "Event": "GatewayEventsLost",
        "Privilege": "system,all",
        "Lost": "0",
        "Reason": "Restart",
    }
    assert held.json["UserEvent"] == "Held"
    await stream.close()


@pytest.mark.parametrize("mode", ["cors", "same-origin"])
async def test_a_browser_script_is_not_asked_for_a_password(serve: Serve, mode: str) -> None:
    """EventSource and fetch send Sec-Fetch-Mode: cors or same-origin.  A
    Basic challenge on their 401 makes the browser hold the request open and
    prompt for a password instead of failing it, so the page never learns
    that its session is gone; a 401 without the challenge fails it at once."""
    _, base = await serve()
    for headers in ({}, basic("admin", "nope")):
        stream = await SseClient.open(base, EVENTS, {**headers, "Sec-Fetch-Mode": mode})
        assert stream.head.status == 401
        assert "www-authenticate" not in stream.head.headers
        await stream.close()
    navigated = await SseClient.open(base, EVENTS, {"Sec-Fetch-Mode": "navigate"})
    assert navigated.head.headers["www-authenticate"].startswith("Basic")
    await navigated.close()
