"""Issue 11, item 10: a date outside what the backends can hold is a 400
naming its field, on every backend (it was a 500 on MySQL and PostgreSQL:
``ValueError: year 10000 is out of range`` turning it into the PBX's time).

The MariaDB and PostgreSQL servers are the tests' own (tests/support/mariadb.py,
tests/support/postgres.py, started once per module by tests/history/conftest.py),
each with a small ``cdr`` table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import pytest

from gateway.simulator import Simulator
from tests.support.dbserver import AUTH, ask
from tests.support.harness import Client, MakeClient, start
from tests.support.historyapp import fed
from tests.support.historydata import call
from tests.support.mariadb import MariaDb
from tests.support.postgres import Postgres

ZONE = "Pacific/Kiritimati"
"""UTC+14: the zone that moves a time furthest forward."""
CALL = datetime(2026, 11, 20, 10, 0, 0)

OUT_OF_RANGE = [
    ("since", "0001-01-01"),
    ("since", "0001-01-01T00:00:00+14:00"),
    ("since", "9999-12-31T23:59:59-14:00"),
    ("until", "0001-01-01T00:00:00Z"),
    ("until", "9999-12-31T23:59:59"),  # the PBX's time: 09:59:59 UTC that day
    ("until", "9999-12-31T12:00:00Z"),
]
IN_RANGE = [("since", "0001-01-02T00:00:00Z"), ("until", "9999-12-30T23:59:59Z")]


def mysql_section(mariadb: MariaDb) -> dict[str, Any]:
    conn = mariadb.connect()
    with conn.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS cdr")
        cursor.execute(
            "CREATE TABLE cdr (calldate DATETIME NOT NULL, src VARCHAR(80), dst VARCHAR(80),"
            " disposition VARCHAR(45), KEY (calldate))"
        )
        cursor.execute(
            "INSERT INTO cdr VALUES (%s, '100', '200', 'ANSWERED')", (CALL.isoformat(" "),)
        )
    conn.close()
    where = {"unix_socket": mariadb.socket, "user": mariadb.user, "password": mariadb.password}
    return {"enabled": True, "backend": "mysql", "mysql": {**where, "database": mariadb.database}}


async def postgresql_section(postgres: Postgres) -> dict[str, Any]:
    where = {"user": postgres.user, "password": postgres.password, "database": postgres.database}
    conn = await asyncpg.connect(host=postgres.socket_dir, **where)
    try:
        await conn.execute("DROP TABLE IF EXISTS cdr")
        await conn.execute(
            "CREATE TABLE cdr (calldate timestamp NOT NULL, src varchar(80), dst varchar(80),"
            " disposition varchar(45))"
        )
        await conn.execute("INSERT INTO cdr VALUES ($1, '100', '200', 'ANSWERED')", CALL)
    finally:
        await conn.close()
    pg = {"unix_socket": postgres.socket_dir, **where}
    return {"enabled": True, "backend": "postgresql", "postgresql": pg}


@pytest.fixture(params=["sqlite", "mysql", "postgresql"])
async def client(
    request: pytest.FixtureRequest, simulator: Simulator, aiohttp_client: MakeClient
) -> Client:
    """The gateway with history on one backend, holding one call, at CALL."""
    backend = request.param
    if backend == "mysql":
        section = mysql_section(request.getfixturevalue("mariadb"))
    elif backend == "postgresql":
        section = await postgresql_section(request.getfixturevalue("postgres"))
    else:
        section = {"enabled": True, "path": ":memory:"}
    client = await start(simulator, aiohttp_client, history={**section, "pbx_timezone": ZONE})
    if backend == "sqlite":  # the gateway's own store records the PBX's Cdr events
        await fed(simulator, client, (call("100", "200", CALL.isoformat(" ")),))
    return client


@pytest.mark.parametrize(("field", "value"), OUT_OF_RANGE)
async def test_a_date_out_of_range_is_a_400_naming_it(
    client: Client, field: str, value: str
) -> None:
    answer = await ask(client, 400, **{field: value})
    assert answer == {
        "error": f"{field} must be between 0001-01-02 and 9999-12-30 (UTC)",
        "field": field,
    }
    query = await client.get(f"/asterisk/history?{field}={value.replace('+', '%2B')}", headers=AUTH)
    assert query.status == 400
    assert (await query.json())["field"] == field


@pytest.mark.parametrize(("field", "value"), IN_RANGE)
async def test_the_edges_of_the_range_are_asked_of_the_backend(
    client: Client, field: str, value: str
) -> None:
    answer = await ask(client, 200, **{field: value})
    assert [c["start"] for c in answer["calls"]] == ["2026-11-20T10:00:00+14:00"]
