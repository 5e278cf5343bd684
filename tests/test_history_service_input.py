"""/history: authentication, refused input and request bodies, end to end."""

from __future__ import annotations

import base64
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from gateway.errors import ConfigError
from gateway.history.config import HistoryConfig
from gateway.history.service import database_source
from gateway.simulator import Simulator
from tests.harness import Client, MakeClient, login, new_app, served, wait_ready
from tests.historyapp import (
    client,
    dsts,
    fed,
    history_section,
)

__all__ = ["client"]  # the fixture, imported for pytest


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
            token = base64.b64encode(b"admin:admin-secret").decode()
            headers = {"Authorization": f"Basic {token}"}
            answer = await http.get(f"{url}/asterisk/history?number=100", headers=headers)
            assert answer.status == 200
    [line] = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert line.startswith('127.0.0.1 admin "GET /asterisk/history?number=100" 200 ')
    assert line.endswith(" history")
