"""/history end to end: captured Cdr events go through the simulator's AMI
socket into the gateway, are recorded, and are read back over HTTP."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from gateway.app import GATEWAY
from gateway.history.config import HistoryConfig
from gateway.history.record import COLUMNS
from gateway.lifecycle import reload_config
from gateway.simulator import Simulator
from tests.harness import Client, MakeClient, login, new_app, wait_ready
from tests.historydata import call, captured_cdrs

CALLS = (
    call("+7 912 000-00-00", "100", "2026-11-20 10:00:00"),
    call("100", "89120000000", "2026-11-21 11:00:00", "NO ANSWER"),
    call("9120000000", "200", "2026-11-22 12:00:00", "BUSY"),
    call("300", "400", "2026-11-23 13:00:00"),
    call("8 (912) 000 00 00", "300", "2026-11-24 14:00:00"),
)
"""Three spellings of one client's number, in five calls on five days."""


def history_section(path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "path": str(path),
        "pbx_timezone": "Europe/Moscow",
        "flush_interval": 0.02,
        "limit_max": 50,
        **extra,
    }


async def start_history(
    simulator: Simulator, aiohttp_client: MakeClient, path: Path, **extra: Any
) -> Client:
    app = new_app(simulator.port, history=history_section(path, **extra))
    client = await aiohttp_client(app)
    await wait_ready(app)
    return client


def recorder_of(client: Client) -> Any:
    recorder = client.app[GATEWAY].history.recorder
    assert recorder is not None
    return recorder


async def wait_written(client: Client, count: int) -> None:
    recorder = recorder_of(client)
    async with asyncio.timeout(5):
        while recorder.written < count:
            await asyncio.sleep(0.01)


async def fed(simulator: Simulator, client: Client, calls: Any = CALLS) -> None:
    before = recorder_of(client).written
    for fields in calls:
        simulator.emit(fields)
    await wait_written(client, before + len(calls))


async def history(client: Client, session: str, **params: Any) -> Any:
    client.session.cookie_jar.clear()
    response = await client.post(
        "/asterisk/history", json=params, headers={"Cookie": f'mansession_id="{session}"'}
    )
    assert response.status == 200, await response.text()
    return await response.json()


def dsts(answer: Any) -> list[str]:
    return [c["dst"] for c in answer["calls"]]


@pytest.fixture
async def client(simulator: Simulator, aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    client = await start_history(simulator, aiohttp_client, tmp_path / "h.sqlite3")
    await fed(simulator, client)
    return client


async def test_every_filter(client: Client) -> None:
    session = await login(client)
    everything = await history(client, session)
    assert everything["count"] == 5
    assert dsts(everything) == ["300", "400", "200", "89120000000", "100"]  # newest first
    for spelling in ("+7 912 000-00-00", "89120000000", "9120000000"):
        found = await history(client, session, number=spelling)
        assert dsts(found) == ["300", "200", "89120000000", "100"], spelling
    assert dsts(await history(client, session, caller="89120000000")) == ["300", "200", "100"]
    assert dsts(await history(client, session, callee="+79120000000")) == ["89120000000"]
    both = await history(client, session, caller="100", callee="9120000000")
    assert dsts(both) == ["89120000000"]
    assert dsts(await history(client, session, number="9120000000", limit=2)) == ["300", "200"]
    window = await history(
        client, session, number="9120000000", since="2026-11-21", until="2026-11-24T00:00:00+03:00"
    )
    assert dsts(window) == ["200", "89120000000"]
    busy = await history(client, session, number="9120000000", disposition="busy")
    assert dsts(busy) == ["200"]
    missed = await history(client, session, disposition="NO_ANSWER")
    assert [c["disposition"] for c in missed["calls"]] == ["NO ANSWER"]


async def test_answer_shape_and_times(client: Client) -> None:
    session = await login(client)
    first = (await history(client, session, number="+7 912 000-00-00", limit=50))["calls"][-1]
    assert first == {
        "start": "2026-11-20T10:00:00+03:00",
        "answer": "2026-11-20T10:00:00+03:00",
        "end": "2026-11-20T10:00:00+03:00",
        "duration": 1,
        "billsec": 1,
        "clid": '"" <+7 912 000-00-00>',
        "src": "+7 912 000-00-00",
        "dst": "100",
        "dcontext": "test",
        "channel": "Local/300@test-00000010;2",
        "dstchannel": "",
        "lastapp": "Hangup",
        "lastdata": "",
        "disposition": "ANSWERED",
        "amaflags": "DOCUMENTATION",
        "accountcode": "",
        "uniqueid": "+7 912 000-00-00-100-2026-11-20 10:00:00",
        "linkedid": "",
        "userfield": "",
    }
    missed = (await history(client, session, disposition="NO ANSWER"))["calls"][0]
    assert missed["answer"] is None


async def test_get_form_and_query_string(client: Client) -> None:
    session = await login(client)
    client.session.cookie_jar.clear()
    response = await client.get(
        "/asterisk/history",
        params={"number": "89120000000", "limit": "1", "mansession_id": session},
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert dsts(await response.json()) == ["300"]
    response = await client.post(
        "/asterisk/history",
        data={"caller": "+79120000000", "limit": "5", "mansession_id": session},
    )
    assert dsts(await response.json()) == ["300", "200", "100"]


async def test_captured_cdrs_unchanged(simulator: Simulator, client: Client) -> None:
    await fed(simulator, client, captured_cdrs())
    session = await login(client)
    answer = await history(client, session, caller="100", limit=50)
    names = {c["clid"] for c in answer["calls"]}
    assert '"Иван Петров" <100>' in names
    assert all(c["start"].endswith("+03:00") for c in answer["calls"])


async def test_a_simulated_call_is_recorded(simulator: Simulator, client: Client) -> None:
    session = await login(client)
    client.session.cookie_jar.clear()
    response = await client.get(
        "/asterisk/rawman",
        params={
            "action": "originate",
            "channel": "Local/100@test",
            "application": "Wait",
            "data": "1",
            "callerid": "Client <+7 999 111-22-33>",
            "async": "true",
            "mansession_id": session,
        },
    )
    assert "Response: Success" in await response.text()
    async with asyncio.timeout(10):
        while not (await history(client, session, number="89991112233"))["calls"]:
            await asyncio.sleep(0.05)
    found = (await history(client, session, number="89991112233"))["calls"]
    assert found[0]["src"] == "+7 999 111-22-33"
    assert found[0]["dst"] == "100"


async def test_basic_auth_and_rights(client: Client) -> None:
    client.session.cookie_jar.clear()
    token = base64.b64encode(b"admin:admin-secret").decode()
    response = await client.get(
        "/asterisk/history?number=9120000000", headers={"Authorization": f"Basic {token}"}
    )
    assert response.status == 200
    assert (await response.json())["count"] == 4
    token = base64.b64encode(b"reader:reader-secret").decode()
    response = await client.get("/asterisk/history", headers={"Authorization": f"Basic {token}"})
    assert response.status == 403
    assert "cdr or reporting" in (await response.json())["error"]
    token = base64.b64encode(b"admin:wrong").decode()
    response = await client.get("/asterisk/history", headers={"Authorization": f"Basic {token}"})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    response = await client.get("/asterisk/history")
    assert response.status == 401
    assert (await response.json())["error"].startswith("log in first")
    response = await client.get('/asterisk/history?mansession_id="nope"')
    assert response.status == 401


async def test_malformed_basic_and_other_schemes(client: Client) -> None:
    client.session.cookie_jar.clear()
    for header, status in (("Basic !!!", 400), ("Bearer abc", 401)):
        response = await client.get("/asterisk/history", headers={"Authorization": header})
        assert response.status == status
    response = await client.get("/asterisk/history", headers={"Authorization": "Basic !!!"})
    assert await response.json() == {
        "error": "Malformed Basic credentials",
        "field": "Authorization",
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"limit": -1}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": True}, "limit"),
        ({"number": "1" * 33}, "number"),
        ({"number": ["100"]}, "number"),
        ({"number": "abc"}, "number"),
        ({"disposition": "LOST"}, "disposition"),
        ({"colour": "red"}, "colour"),
        ({"number": "100", "caller": "200"}, "number"),
        ({"since": "2026-11-02", "until": "2026-11-01"}, "until"),
    ],
)
async def test_bad_input_names_the_field(
    client: Client, params: dict[str, Any], field: str
) -> None:
    session = await login(client)
    response = await client.post(
        "/asterisk/history", json=params, headers={"Cookie": f'mansession_id="{session}"'}
    )
    assert response.status == 400
    assert (await response.json())["field"] == field


async def test_bad_bodies(client: Client) -> None:
    session = await login(client)
    headers = {"Cookie": f'mansession_id="{session}"'}
    for body, kind in (("[1]", "application/json"), ("{", "application/json"), ("x", "text/xml")):
        response = await client.post(
            "/asterisk/history", data=body, headers={**headers, "Content-Type": kind}
        )
        assert response.status == 400
        assert (await response.json())["field"] == "body"
    response = await client.get("/asterisk/history?limit=1&limit=2", headers=headers)
    assert (await response.json())["field"] == "limit"


async def test_a_restart_loses_no_recorded_call(
    simulator: Simulator, aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    path = tmp_path / "restart.sqlite3"
    # A flush interval far beyond the test: only the flush at stop can write them.
    first = await start_history(simulator, aiohttp_client, path, flush_interval=60)
    recorder = recorder_of(first)
    for fields in CALLS:
        simulator.emit(fields)
    async with asyncio.timeout(5):
        while len(recorder.batcher) < len(CALLS):
            await asyncio.sleep(0.01)
    assert recorder.written == 0
    await first.close()
    second = await start_history(simulator, aiohttp_client, path)
    session = await login(second)
    assert (await history(second, session))["count"] == len(CALLS)


async def test_disabled_history_has_no_route(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    app = new_app(simulator.port)
    client = await aiohttp_client(app)
    assert isinstance(app, web.Application)
    assert app[GATEWAY].history.backend is None
    response = await client.get("/asterisk/history")
    assert response.status == 404


def readme_schema() -> Any:
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = next(b for b in text.split("```json\n")[1:] if '"$schema"' in b.split("```")[0])
    return json.loads(block.split("```")[0])


async def test_answers_follow_the_readme_schema(client: Client) -> None:
    schema = readme_schema()
    call_schema = schema["$defs"]["call"]
    assert tuple(call_schema["required"]) == COLUMNS
    session = await login(client)
    answer = await history(client, session)
    assert set(answer) == set(schema["required"])
    for found in answer["calls"]:
        assert list(found) == call_schema["required"]


async def test_body_limits_and_an_empty_post(
    simulator: Simulator, aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    app = new_app(
        simulator.port,
        history=history_section(tmp_path / "b.sqlite3"),
        limits={"max_body": 64},
    )
    client = await aiohttp_client(app)
    await wait_ready(app)
    await fed(simulator, client)
    session = await login(client)
    headers = {"Cookie": f'mansession_id="{session}"'}
    response = await client.post("/asterisk/history", json={"number": "1" * 80}, headers=headers)
    assert response.status == 413
    chunks = (b"{" + b" " * 40, b" " * 40 + b"}")

    async def stream() -> Any:
        for chunk in chunks:
            yield chunk

    response = await client.post(
        "/asterisk/history",
        data=stream(),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status == 413  # no Content-Length: counted while reading
    response = await client.post("/asterisk/history?limit=2", headers=headers)
    assert (await response.json())["count"] == 2  # an empty POST takes the query


async def test_metrics_show_the_recorder(client: Client) -> None:
    response = await client.get("/metrics")
    assert "ajam_history_recorded_total 5.0" in await response.text()


async def test_a_slow_lookup_is_503(
    simulator: Simulator, aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    client = await start_history(
        simulator, aiohttp_client, tmp_path / "t.sqlite3", query_timeout=0.1
    )
    recorder = recorder_of(client)
    gate = threading.Event()
    busy = asyncio.get_running_loop().run_in_executor(recorder._pool, gate.wait, 10.0)
    try:
        session = await login(client)
        response = await client.get(f"/asterisk/history?mansession_id={session}")
        assert response.status == 503
        assert "query_timeout" in (await response.json())["error"]
    finally:
        gate.set()
        await busy


async def test_a_reload_leaves_history_to_a_restart(client: Client) -> None:
    gateway = client.app[GATEWAY]
    new = dataclasses.replace(gateway.config, history=HistoryConfig())
    warnings = reload_config(client.app, new)
    assert warnings == ["[history] changed: it takes effect only after a restart"]
    assert gateway.config.history.enabled
    session = await login(client)
    assert (await history(client, session))["count"] == 5


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
async def test_the_readme_1c_exchange(client: Client, bom: bytes) -> None:
    """What the README's ИсторияЗвонков sends: ЗаписьJSON's layout, Basic first."""
    client.session.cookie_jar.clear()
    body = bom + b'{\r\n\t"number": "+7 912 000-00-00",\r\n\t"limit": 10\r\n}'
    token = base64.b64encode(b"admin:admin-secret").decode()
    response = await client.post(
        "/asterisk/history",
        data=body,
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
    )
    assert response.status == 200
    answer = await response.json()
    assert answer["limit"] == 10
    assert dsts(answer) == ["300", "200", "89120000000", "100"]
