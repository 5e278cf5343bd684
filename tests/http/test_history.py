"""/history: authentication, refused input and request bodies, end to end."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from gateway.errors import ConfigError
from gateway.history.service import database_source
from gateway.history.settings import HistoryConfig
from gateway.simulator import Simulator
from tests.support.harness import Client, MakeClient, basic, login, new_app, served, start
from tests.support.historyapp import (
    dsts,
    fed,
    history_section,
)


async def test_basic_auth_and_rights(history_client: Client) -> None:
    history_client.session.cookie_jar.clear()
    response = await history_client.get(
        "/asterisk/history?number=9120000000", headers=basic("admin")
    )
    assert response.status == 200
    assert (await response.json())["count"] == 4
    response = await history_client.get("/asterisk/history", headers=basic("reader"))
    assert response.status == 403
    assert "cdr or reporting" in (await response.json())["error"]
    response = await history_client.get("/asterisk/history", headers=basic("admin", "wrong"))
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    response = await history_client.get("/asterisk/history")
    assert response.status == 401
    assert (await response.json())["error"].startswith("log in first")
    response = await history_client.get('/asterisk/history?mansession_id="nope"')
    assert response.status == 401
    # A page's fetch() is failed, not answered with a password prompt.
    response = await history_client.get("/asterisk/history", headers={"Sec-Fetch-Mode": "cors"})
    assert response.status == 401
    assert "WWW-Authenticate" not in response.headers


async def test_malformed_basic_and_other_schemes(history_client: Client) -> None:
    history_client.session.cookie_jar.clear()
    for header, status in (("Basic !!!", 400), ("Bearer abc", 401)):
        response = await history_client.get("/asterisk/history", headers={"Authorization": header})
        assert response.status == status
    response = await history_client.get("/asterisk/history", headers={"Authorization": "Basic !!!"})
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
        ({"limit": "\u00b2"}, "limit"),  # isdigit() but not int(): was a 500
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
    history_client: Client, params: dict[str, Any], field: str
) -> None:
    session = await login(history_client)
    response = await history_client.post(
        "/asterisk/history", json=params, headers={"Cookie": f'mansession_id="{session}"'}
    )
    assert response.status == 400
    assert (await response.json())["field"] == field


async def test_bad_bodies(history_client: Client) -> None:
    session = await login(history_client)
    headers = {"Cookie": f'mansession_id="{session}"'}
    bodies = (
        ("[1]", "application/json"),
        ("{", "application/json"),
        ("x", "text/xml"),
        ("[" * 60_000, "application/json"),  # nested past the recursion limit: was a 500
    )
    for body, kind in bodies:
        response = await history_client.post(
            "/asterisk/history", data=body, headers={**headers, "Content-Type": kind}
        )
        assert response.status == 400
        assert (await response.json())["field"] == "body"
    response = await history_client.get("/asterisk/history?limit=1&limit=2", headers=headers)
    assert (await response.json())["field"] == "limit"
    twice = b'{"number": "100", "limit": 1, "number": "200"}'  # json.loads keeps the last
    response = await history_client.post(
        "/asterisk/history", data=twice, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status == 400
    assert (await response.json())["field"] == "number"


async def test_body_limits_and_an_empty_post(
    simulator: Simulator, aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    history_client = await start(
        simulator,
        aiohttp_client,
        history=history_section(tmp_path / "b.sqlite3"),
        limits={"max_body": 64},
    )
    await fed(simulator, history_client)
    session = await login(history_client)
    headers = {"Cookie": f'mansession_id="{session}"'}
    response = await history_client.post(
        "/asterisk/history", json={"number": "1" * 80}, headers=headers
    )
    assert response.status == 413
    chunks = (b"{" + b" " * 40, b" " * 40 + b"}")

    async def stream() -> Any:
        for chunk in chunks:
            yield chunk

    response = await history_client.post(
        "/asterisk/history",
        data=stream(),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status == 413  # no Content-Length: counted while reading
    response = await history_client.post("/asterisk/history?limit=2", headers=headers)
    assert (await response.json())["count"] == 2  # an empty POST takes the query


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
async def test_the_1c_modules_exchange(history_client: Client, bom: bytes) -> None:
    """What the 1C module's ИсторияЗвонков sends: ЗаписьJSON's layout, Basic first."""
    history_client.session.cookie_jar.clear()
    body = bom + b'{\r\n\t"number": "+7 912 000-00-00",\r\n\t"limit": 10\r\n}'
    response = await history_client.post(
        "/asterisk/history",
        data=body,
        headers={**basic("admin"), "Content-Type": "application/json"},
    )
    assert response.status == 200
    answer = await response.json()
    assert answer["limit"] == 10
    assert dsts(answer) == ["300", "200", "89120000000", "100"]


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_a_missing_driver_is_a_config_error(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    hidden = {
        "mysql": ("aiomysql", "gateway.history.mysql_source"),
        "postgresql": ("asyncpg", "gateway.history.pg_source"),
    }
    for name in hidden[backend]:  # as if the extra were not installed
        monkeypatch.setitem(sys.modules, name, None)
    settings = HistoryConfig(enabled=True, backend=backend)
    with pytest.raises(ConfigError, match=rf"pip install 'ajam-gateway\[{backend}\]'"):
        database_source(settings)


async def test_the_access_log_names_user_and_history(
    simulator: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = new_app(simulator.port, history=history_section(tmp_path / "a.sqlite3"))
    async with served(app) as url, ClientSession() as http:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            answer = await http.get(f"{url}/asterisk/history?number=100", headers=basic("admin"))
            assert answer.status == 200
    [line] = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert line.startswith('127.0.0.1 admin "GET /asterisk/history?number=100" 200 ')
    assert line.endswith(" history")


async def test_a_post_body_with_the_session_in_the_query(history_client: Client) -> None:
    """nginx routes on the query's mansession_id only (it never reads a body),
    so a cookie-less POST of JSON or a form names its session there."""
    session = await login(history_client)
    history_client.session.cookie_jar.clear()
    url = f"/asterisk/history?mansession_id={session}"
    response = await history_client.post(url, json={"number": "9120000000", "limit": 2})
    assert response.status == 200, await response.text()
    assert dsts(await response.json()) == ["300", "200"]
    response = await history_client.post(url, data={"number": "9120000000", "limit": "1"})
    assert dsts(await response.json()) == ["300"]


async def test_query_and_session_rate_limits(
    simulator: Simulator, aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    history_client = await start(
        simulator,
        aiohttp_client,
        history=history_section(tmp_path / "q.sqlite3"),
        limits={"max_query": 64, "rate_per_session": 1.0},
    )
    session = await login(history_client)
    history_client.session.cookie_jar.clear()
    headers = {"Cookie": f'mansession_id="{session}"'}
    response = await history_client.get(f"/asterisk/history?number={'1' * 70}", headers=headers)
    assert response.status == 414  # over max_query: refused before anything is read
    response = await history_client.get("/asterisk/history?number=100", headers=headers)
    assert response.status == 200  # a lookup costs a query: the one token of the burst
    response = await history_client.get("/asterisk/history?number=100", headers=headers)
    assert response.status == 429
    assert int(response.headers["Retry-After"]) >= 1


async def test_a_reader_is_refused_by_every_session_route(history_client: Client) -> None:
    """cdr or reporting is needed however the session is named."""
    session = await login(history_client, "reader")
    history_client.session.cookie_jar.clear()
    cookie = {"Cookie": f"mansession_id={session}"}
    answers = [
        await history_client.get("/asterisk/history?number=100", headers=cookie),
        await history_client.get(f"/asterisk/history?number=100&mansession_id={session}"),
        await history_client.post(
            "/asterisk/history", data={"number": "100", "mansession_id": session}
        ),
        await history_client.post(
            "/asterisk/history", json={"number": "100", "mansession_id": session}
        ),
        await history_client.post(
            f"/asterisk/history?mansession_id={session}", json={"number": "100"}
        ),
    ]
    for response in answers:
        assert response.status == 403
        assert "cdr or reporting" in (await response.json())["error"]
