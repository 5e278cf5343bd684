"""The postgresql backend against a real PostgreSQL server (tests/support/postgres.py):
cdr_pgsql's table and the alembic one, read through /history."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from gateway.history.pg_source import PgSource
from gateway.history.query import HistoryQuery
from gateway.history.settings import DatabaseConfig, HistoryConfig
from gateway.history.sqlplan import POSTGRES, table_shape
from gateway.simulator import Simulator
from tests.support.dbserver import ask, check_filters, check_unreachable
from tests.support.harness import MakeClient, start
from tests.support.historydata import CDR_ROWS
from tests.support.postgres import Postgres, postgres

__all__ = ["postgres"]  # the fixture, imported for pytest

CDR_PGSQL = """
CREATE TABLE cdr (
  calldate timestamp NOT NULL, clid varchar(80) NOT NULL DEFAULT '',
  src varchar(80) NOT NULL DEFAULT '', dst varchar(80) NOT NULL DEFAULT '',
  dcontext varchar(80) NOT NULL DEFAULT '', channel varchar(80) NOT NULL DEFAULT '',
  dstchannel varchar(80) NOT NULL DEFAULT '', lastapp varchar(80) NOT NULL DEFAULT '',
  lastdata varchar(80) NOT NULL DEFAULT '', duration bigint NOT NULL DEFAULT 0,
  billsec bigint NOT NULL DEFAULT 0, disposition varchar(45) NOT NULL DEFAULT '',
  amaflags bigint NOT NULL DEFAULT 0, accountcode varchar(20) NOT NULL DEFAULT '',
  uniqueid varchar(150) NOT NULL DEFAULT '', userfield varchar(255) NOT NULL DEFAULT ''
);
CREATE INDEX cdr_calldate ON cdr (calldate);
CREATE INDEX cdr_src ON cdr (src);
CREATE INDEX cdr_dst ON cdr (dst);
CREATE TABLE cdr_adaptive (
  accountcode varchar(20), src varchar(80), dst varchar(80), dcontext varchar(80),
  clid varchar(80), channel varchar(80), dstchannel varchar(80), lastapp varchar(80),
  lastdata varchar(80), start timestamp, answer timestamp, "end" timestamp,
  duration integer, billsec integer, disposition varchar(45), amaflags varchar(45),
  userfield varchar(256), uniqueid varchar(150), linkedid varchar(150),
  peeraccount varchar(20), sequence integer
);
"""
"""cdr_pgsql's usual table (``calldate``) and Asterisk's alembic one."""


async def connect(db: Postgres) -> Any:
    return await asyncpg.connect(
        host=db.socket_dir, user=db.user, password=db.password, database=db.database
    )


@pytest.fixture
async def tables(postgres: Postgres) -> Postgres:
    conn = await connect(postgres)
    try:
        await conn.execute("DROP TABLE IF EXISTS cdr, cdr_adaptive")
        await conn.execute(CDR_PGSQL)
        for i, (when, src, dst, disposition, billsec) in enumerate(CDR_ROWS):
            moment = datetime.fromisoformat(when)
            answer = moment if disposition == "ANSWERED" else None
            await conn.execute(
                "INSERT INTO cdr (calldate, clid, src, dst, billsec, disposition, amaflags,"
                " uniqueid) VALUES ($1, $2, $3, $4, $5, $6, 3, $7)",
                moment, f'"Иван" <{src}>', src, dst, billsec, disposition, f"u{i}",
            )  # fmt: skip
            await conn.execute(
                'INSERT INTO cdr_adaptive (start, answer, "end", src, dst, disposition,'
                " amaflags, linkedid) VALUES ($1, $2, $1, $3, $4, $5, 'BILLING', $6)",
                moment, answer, src, dst, disposition, f"L{i}",
            )  # fmt: skip
    finally:
        await conn.close()
    return postgres


def section(db: Postgres, **extra: Any) -> dict[str, Any]:
    where = {"unix_socket": db.socket_dir, "user": db.user, "password": db.password}
    return {
        "enabled": True,
        "backend": "postgresql",
        "pbx_timezone": "Europe/Moscow",
        "postgresql": {**where, "database": db.database, **extra},
    }


async def test_cdr_pgsql_layout(
    simulator: Simulator, aiohttp_client: MakeClient, tables: Postgres
) -> None:
    client = await start(simulator, aiohttp_client, history=section(tables))
    await check_filters(client)
    call = (await ask(client, number="9120000000", limit=1))["calls"][0]
    assert call["start"] == "2026-11-24T14:00:00+03:00"
    assert (call["answer"], call["amaflags"], call["billsec"]) == (None, "DOCUMENTATION", 7)
    assert call["clid"] == '"Иван" <89120000000>'


async def test_adaptive_layout(
    simulator: Simulator, aiohttp_client: MakeClient, tables: Postgres
) -> None:
    client = await start(simulator, aiohttp_client, history=section(tables, table="cdr_adaptive"))
    calls = (await ask(client, number="89120000000"))["calls"]
    assert [c["linkedid"] for c in calls] == ["L4", "L2", "L1", "L0"]
    assert calls[0]["answer"] == calls[0]["end"] == "2026-11-24T14:00:00+03:00"
    assert calls[1]["answer"] is None
    assert (calls[0]["amaflags"], calls[0]["clid"]) == ("BILLING", "")


async def test_lookups_use_the_indexes(tables: Postgres) -> None:
    conn = await connect(tables)
    try:
        await conn.execute(
            "INSERT INTO cdr (calldate, src, dst) SELECT timestamp '2026-11-01' + n * interval"
            " '1 minute', (7000 + n)::text, n::text FROM generate_series(1, 5000) AS n"
        )
        await conn.execute("ANALYZE cdr")
        source = PgSource(HistoryConfig(postgresql=DatabaseConfig(table="cdr")))
        shape = table_shape({"calldate", "src", "dst"}, "auto", POSTGRES)
        sql, args = source.plan(HistoryQuery(limit=5, number="9120000000"), shape)
        plan = "\n".join(row[0] for row in await conn.fetch("EXPLAIN " + sql, *args))
    finally:
        await conn.close()
    assert "cdr_src" in plan
    assert "cdr_dst" in plan
    assert "Seq Scan" not in plan


async def test_database_failures_are_503(
    simulator: Simulator, aiohttp_client: MakeClient, tables: Postgres, tmp_path: Path
) -> None:
    client = await start(simulator, aiohttp_client, history=section(tables, table="nosuch"))
    assert "no table 'nosuch'" in (await ask(client, 503))["error"]
    config = HistoryConfig(postgresql=DatabaseConfig(unix_socket=str(tmp_path), password="x"))
    await check_unreachable(PgSource(config), PgSource(config))
