"""/history end to end: captured Cdr events go through the simulator's AMI
socket into the gateway, are recorded, and are read back over HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path

from aiohttp import web

from gateway.app import GATEWAY
from gateway.history.record import COLUMNS
from gateway.history.settings import HistoryConfig
from gateway.lifecycle import reload_config
from gateway.simulator import Simulator
from tests.support.harness import Client, MakeClient, login, new_app, until
from tests.support.historyapp import (
    CALLS,
    dsts,
    fed,
    history,
    recorder_of,
    start_history,
)
from tests.support.historydata import captured_cdrs
from tests.support.historyschema import call_errors, published_schema


async def test_every_filter(history_client: Client) -> None:
    session = await login(history_client)
    everything = await history(history_client, session)
    assert everything["count"] == 5
    assert dsts(everything) == ["300", "400", "200", "89120000000", "100"]  # newest first
    for spelling in ("+7 912 000-00-00", "89120000000", "9120000000"):
        found = await history(history_client, session, number=spelling)
        assert dsts(found) == ["300", "200", "89120000000", "100"], spelling
    assert dsts(await history(history_client, session, caller="89120000000")) == [
        "300",
        "200",
        "100",
    ]
    assert dsts(await history(history_client, session, callee="+79120000000")) == ["89120000000"]
    both = await history(history_client, session, caller="100", callee="9120000000")
    assert dsts(both) == ["89120000000"]
    assert dsts(await history(history_client, session, number="9120000000", limit=2)) == [
        "300",
        "200",
    ]
    window = await history(
        history_client,
        session,
        number="9120000000",
        since="2026-11-21",
        until="2026-11-24T00:00:00+03:00",
    )
    assert dsts(window) == ["200", "89120000000"]
    busy = await history(history_client, session, number="9120000000", disposition="busy")
    assert dsts(busy) == ["200"]
    missed = await history(history_client, session, disposition="NO_ANSWER")
    assert [c["disposition"] for c in missed["calls"]] == ["NO ANSWER"]


async def test_answer_shape_and_times(history_client: Client) -> None:
    session = await login(history_client)
    first = (await history(history_client, session, number="+7 912 000-00-00", limit=50))["calls"][
        -1
    ]
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
    missed = (await history(history_client, session, disposition="NO ANSWER"))["calls"][0]
    assert missed["answer"] is None


async def test_get_form_and_query_string(history_client: Client) -> None:
    session = await login(history_client)
    history_client.session.cookie_jar.clear()
    response = await history_client.get(
        "/asterisk/history",
        params={"number": "89120000000", "limit": "1", "mansession_id": session},
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert dsts(await response.json()) == ["300"]
    response = await history_client.post(
        "/asterisk/history",
        data={"caller": "+79120000000", "limit": "5", "mansession_id": session},
    )
    assert dsts(await response.json()) == ["300", "200", "100"]


async def test_captured_cdrs_unchanged(simulator: Simulator, history_client: Client) -> None:
    await fed(simulator, history_client, captured_cdrs())
    session = await login(history_client)
    answer = await history(history_client, session, caller="100", limit=50)
    names = {c["clid"] for c in answer["calls"]}
    assert '"Иван Петров" <100>' in names
    assert all(c["start"].endswith("+03:00") for c in answer["calls"])


async def test_a_simulated_call_is_recorded(simulator: Simulator, history_client: Client) -> None:
    session = await login(history_client)
    history_client.session.cookie_jar.clear()
    response = await history_client.get(
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
        while not (await history(history_client, session, number="89991112233"))["calls"]:
            await asyncio.sleep(0.05)
    found = (await history(history_client, session, number="89991112233"))["calls"]
    assert found[0]["src"] == "+7 999 111-22-33"
    assert found[0]["dst"] == "100"


async def test_a_restart_loses_no_recorded_call(
    simulator: Simulator, aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    path = tmp_path / "restart.sqlite3"
    # A flush interval far beyond the test: only the flush at stop can write them.
    first = await start_history(simulator, aiohttp_client, path, flush_interval=60)
    recorder = recorder_of(first)
    for fields in CALLS:
        simulator.emit(fields)
    await until(lambda: len(recorder.batcher) >= len(CALLS))
    assert recorder.written == 0
    await first.close()
    second = await start_history(simulator, aiohttp_client, path)
    session = await login(second)
    assert (await history(second, session))["count"] == len(CALLS)


async def test_disabled_history_has_no_route(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    app = new_app(simulator.port)
    history_client = await aiohttp_client(app)
    assert isinstance(app, web.Application)
    assert app[GATEWAY].history.backend is None
    response = await history_client.get("/asterisk/history")
    assert response.status == 404


async def test_answers_follow_the_published_schema(history_client: Client) -> None:
    schema = published_schema()
    call_schema = schema["$defs"]["call"]
    assert tuple(call_schema["required"]) == COLUMNS
    session = await login(history_client)
    answer = await history(history_client, session)
    assert set(answer) == set(schema["required"])
    for found in answer["calls"]:
        assert list(found) == call_schema["required"]
        assert call_errors(schema, found) == []


async def test_metrics_show_the_recorder(history_client: Client) -> None:
    response = await history_client.get("/metrics")
    assert "ajam_history_recorded_total 5.0" in await response.text()


async def test_a_slow_lookup_is_503(
    simulator: Simulator, aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    history_client = await start_history(
        simulator, aiohttp_client, tmp_path / "t.sqlite3", query_timeout=0.1
    )
    recorder = recorder_of(history_client)
    gate = threading.Event()
    busy = asyncio.get_running_loop().run_in_executor(recorder._pool, gate.wait, 10.0)
    try:
        session = await login(history_client)
        response = await history_client.get(f"/asterisk/history?mansession_id={session}")
        assert response.status == 503
        assert "query_timeout" in (await response.json())["error"]
    finally:
        gate.set()
        await busy


async def test_a_reload_leaves_history_to_a_restart(history_client: Client) -> None:
    gateway = history_client.app[GATEWAY]
    new = dataclasses.replace(gateway.config, history=HistoryConfig())
    warnings = reload_config(history_client.app, new)
    assert warnings == ["[history] changed: it takes effect only after a restart"]
    assert gateway.config.history.enabled
    session = await login(history_client)
    assert (await history(history_client, session))["count"] == 5
