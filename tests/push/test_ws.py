"""``GET {prefix}/ws``: actions, replies and events over one WebSocket."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import ClientSession, WSMsgType, WSServerHandshakeError
from aiohttp.client_ws import ClientWebSocketResponse

from gateway.app import GATEWAY
from gateway.push.stream import CloseReason, StreamKind
from gateway.simulator import Simulator
from tests.support.harness import basic, until, user_event
from tests.support.pushclient import Serve, cookie, login
from tests.support.wsclient import masked, upgrade

WS = "/asterisk/ws"
LOGIN = {"Action": "Login", "Username": "admin", "Secret": "admin-secret", "ActionID": "in"}


async def send(ws: ClientWebSocketResponse, frame: dict[str, Any]) -> None:
    await ws.send_str(json.dumps(frame))


async def receive(ws: ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), 5)
    assert message.type is WSMsgType.TEXT, message
    data = json.loads(message.data)
    assert isinstance(data, dict)
    return data


async def reply(ws: ClientWebSocketResponse) -> dict[str, Any]:
    """The next reply frame (events before it skipped: a login's own SuccessfulAuth)."""
    while "response" not in (frame := await receive(ws)):
        assert set(frame) == {"id", "event"}
    return frame


async def test_actions_are_answered_in_order_with_their_action_ids(
    serve: Serve, simulator: Simulator
) -> None:
    _, base = await serve()
    async with ClientSession() as http, http.ws_connect(f"{base}{WS}?events=UserEvent") as ws:
        await send(ws, LOGIN)
        logged = await receive(ws)
        assert logged["response"] == {
            "Response": "Success",
            "ActionID": "in",
            "Message": "Authentication accepted",
        }
        assert len(logged["session"]) == 32
        frames: list[dict[str, Any]] = [
            {"Action": "Ping", "ActionID": "1"},
            {"Action": "Command", "Command": "core show version", "ActionID": "2"},
            {"Action": "Ping", "ActionID": "3"},
            {"Action": "CoreShowChannels", "ActionID": "4"},
            {"Action": "Ping", "ActionID": 5},
        ]
        for frame in frames:
            await send(ws, frame)
        replies = [await receive(ws) for _ in frames]
        assert [r["response"]["ActionID"] for r in replies] == ["1", "2", "3", "4", "5"]
        assert replies[1]["response"]["Output"][0].startswith("Asterisk")
        assert replies[3]["events"][-1]["Event"] == "CoreShowChannelsComplete"
        simulator.emit(user_event("Pushed"))
        event = await receive(ws)
        assert set(event) == {"id", "event"}
        assert event["event"] == {
            "Event": "UserEvent",
            "Privilege": "user,all",
            "UserEvent": "Pushed",
        }


async def test_resume_replays_exactly_what_was_missed(serve: Serve, simulator: Simulator) -> None:
    app, base = await serve()
    session = await login(base)
    async with ClientSession() as http:
        url = f"{base}{WS}?events=UserEvent"
        async with http.ws_connect(url, headers=cookie(session)) as ws:
            for n in range(3):
                simulator.emit(user_event(f"A{n}"))
            seen = [await receive(ws) for _ in range(3)]
        last = seen[-1]["id"]
        for n in range(4):
            simulator.emit(user_event(f"B{n}"))
        await asyncio.sleep(0.2)  # the B events are in the log, nobody read them
        # a socket of its own (Basic): it starts at the log's end, then resumes
        async with http.ws_connect(url, headers=basic("admin")) as ws:
            await send(ws, {"Action": "Resume", "Cursor": last, "ActionID": "r"})
            reply = await receive(ws)
            assert reply["response"] == {
                "Response": "Success",
                "ActionID": "r",
                "Cursor": str(last),
            }
            missed = [await receive(ws) for _ in range(4)]
            assert [f["event"]["UserEvent"] for f in missed] == ["B0", "B1", "B2", "B3"]
            held = app[GATEWAY].log.since(last)[1]
            assert [f["id"] for f in missed] == [e.seq for e in held if e.name == "userevent"]
            await send(ws, {"Action": "Resume", "ActionID": "x"})
            assert (await receive(ws))["response"]["Message"] == "Resume needs a Cursor"
            await send(ws, {"Action": "Resume", "Cursor": "abc", "ActionID": "y"})
            assert (await receive(ws))["response"]["Message"] == "Invalid cursor"


async def test_fields_are_checked_as_ajam_checks_them(serve: Serve, simulator: Simulator) -> None:
    _, base = await serve()
    async with (
        ClientSession() as http,
        http.ws_connect(f"{base}{WS}", headers=basic("admin")) as ws,
    ):
        before = len(simulator.received)
        await send(ws, {"Action": "Ping", "X": "a\r\nAction: Originate", "ActionID": "cr"})
        answer = await reply(ws)
        assert answer["response"] == {
            "Response": "Error",
            "ActionID": "cr",
            "Message": "Invalid character in request",
        }
        await send(ws, {"Action": "Ping", "Long": "x" * 2000})
        assert (await reply(ws))["response"]["Message"] == "Request too large for AMI"
        await send(ws, {"Action": "Ping", "X": [str(n) for n in range(200)]})
        assert (await reply(ws))["response"]["Message"] == "Request too large for AMI"
        await send(ws, {"Action": "WaitEvent"})
        refused = await reply(ws)
        assert "events are pushed" in refused["response"]["Message"]
        assert len(simulator.received) == before  # nothing reached AMI
        await send(ws, {"Action": "UserEvent", "UserEvent": "Arr", "Header": ["A: 1", "B: 2"]})
        await reply(ws)
        sent = simulator.received[-1]
        assert sent.get_all("Header") == ["A: 1", "B: 2"]


async def test_a_reader_may_not_originate_over_a_socket(serve: Serve, simulator: Simulator) -> None:
    _, base = await serve()
    async with (
        ClientSession() as http,
        http.ws_connect(f"{base}{WS}", headers=basic("reader")) as ws,
    ):
        before = len(simulator.received)
        await send(ws, {"Action": "Originate", "Channel": "Local/1@test", "Exten": "1"})
        assert (await reply(ws))["response"]["Message"] == "Permission denied"
        assert len(simulator.received) == before


async def test_frames_that_are_not_actions_get_errors_and_lose_nothing(
    serve: Serve, simulator: Simulator
) -> None:
    _, base = await serve(push={"max_bad_frames": 3})
    async with (
        ClientSession() as http,
        http.ws_connect(f"{base}{WS}", headers=basic("admin")) as ws,
    ):
        bad: list[str | bytes] = ['{"Action": "Ping"', '["Ping"]', '{"Action": true}']
        for frame in bad:
            await ws.send_str(str(frame))
        await ws.send_bytes(b"\x00")
        messages = [(await reply(ws))["response"]["Message"] for _ in range(4)]
        assert messages[0].startswith("Invalid JSON")
        assert messages[1].startswith("A frame must be a JSON object")
        assert messages[2] == "Action: values must be strings, numbers or arrays of them"
        assert messages[3] == "Binary frames are not accepted: send JSON text"
        closed = await asyncio.wait_for(ws.receive(), 5)  # the fourth was one too many
        assert closed.type is WSMsgType.CLOSE
        assert closed.data == 1008


async def test_a_login_frame_must_come_in_time_and_be_right(serve: Serve) -> None:
    _, base = await serve(http={"unauth_timeout": 1})
    async with ClientSession() as http:
        async with http.ws_connect(f"{base}{WS}") as ws:
            await send(ws, {"Action": "Ping", "ActionID": "early"})
            assert (await reply(ws))["response"]["Message"] == "Permission denied"
            await send(ws, {**LOGIN, "Secret": "wrong"})
            assert (await reply(ws))["response"]["Message"] == "Authentication failed"
            closed = await asyncio.wait_for(ws.receive(), 5)  # a failed login ends the session
            assert (closed.type, closed.data) == (WSMsgType.CLOSE, 1000)
        async with http.ws_connect(f"{base}{WS}") as ws:
            closed = await asyncio.wait_for(ws.receive(), 5)  # unauth_timeout: 1 s
            assert (closed.type, closed.data, closed.extra) == (
                WSMsgType.CLOSE,
                1008,
                "not logged in",
            )


async def test_the_origin_of_a_browser_page_must_be_allowed(serve: Serve) -> None:
    _, base = await serve(http={"cors_origins": ["https://crm.example.com"]})
    host = base.removeprefix("http://")
    async with ClientSession() as http:
        with pytest.raises(WSServerHandshakeError) as refused:
            await http.ws_connect(f"{base}{WS}", headers={"Origin": "https://evil.example"})
        assert refused.value.status == 403
        for origin in (f"http://{host}", "https://crm.example.com"):
            async with http.ws_connect(f"{base}{WS}", headers={"Origin": origin}) as ws:
                await send(ws, LOGIN)
                assert (await reply(ws))["response"]["Response"] == "Success"
        async with http.get(f"{base}{WS}") as plain:
            assert plain.status == 400  # not an upgrade


async def test_logoff_answers_then_closes_and_a_drain_closes_1001(serve: Serve) -> None:
    app, base = await serve()
    gateway = app[GATEWAY]
    async with ClientSession() as http:
        async with http.ws_connect(f"{base}{WS}") as ws:
            await send(ws, LOGIN)
            await reply(ws)
            await send(ws, {"Action": "Logoff", "ActionID": "bye"})
            assert (await reply(ws))["response"]["Response"] == "Goodbye"
            closed = await asyncio.wait_for(ws.receive(), 5)
            assert (closed.type, closed.data) == (WSMsgType.CLOSE, 1000)
        assert gateway.sessions.authenticated_count() == 0
        session = await login(base)
        async with http.ws_connect(f"{base}{WS}", headers=cookie(session)) as ws:
            await send(ws, {"Action": "Ping"})
            await reply(ws)
            gateway.push.drain()
            closed = await asyncio.wait_for(ws.receive(), 5)
            assert (closed.type, closed.data) == (WSMsgType.CLOSE, 1001)
        assert (
            gateway.sessions.authenticated_count() == 1
        )  # the cookie's session is not the socket's


async def test_wrong_basic_credentials_on_the_upgrade_get_401(serve: Serve) -> None:
    _, base = await serve()
    status, _, writer = await upgrade(base, WS, basic("admin", "wrong"))
    assert status == 401
    writer.close()


async def test_a_client_that_never_reads_its_replies_is_not_read_either_then_closed(
    serve: Serve, simulator: Simulator
) -> None:
    app, base = await serve(push={"buffer_bytes": 4096, "write_timeout": 0.5})
    gateway = app[GATEWAY]
    status, reader, writer = await upgrade(base, WS, basic("admin"), rcvbuf=4096)
    assert status == 101
    reader._transport.pause_reading()  # type: ignore[attr-defined]
    frame = masked(json.dumps({"Action": "Command", "Command": "core show channels"}).encode())
    before = len(simulator.received)
    for _ in range(300):
        writer.write(frame)
    closed = gateway.push.counts.kinds[StreamKind.WS].closed
    await until(lambda: closed[CloseReason.WRITE_TIMEOUT] == 1, timeout=10)
    answered = len(simulator.received) - before
    assert 0 < answered < 300  # it stopped taking actions once its replies went unread
    writer.close()
