"""The mysql backend against a real MariaDB server (tests/support/mariadb.py):
Asterisk's cdr table in both layouts, read through /history."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.history.mysql_source import MysqlSource
from gateway.history.query import HistoryQuery
from gateway.history.settings import DatabaseConfig, HistoryConfig
from gateway.history.sqlplan import MYSQL, table_shape
from gateway.simulator import Simulator
from tests.support.dbserver import ask, check_filters, check_unreachable
from tests.support.harness import MakeClient, start
from tests.support.historydata import CDR_ROWS as ROWS
from tests.support.mariadb import MariaDb, mariadb

__all__ = ["mariadb"]  # the fixture, imported for pytest

CDR_MYSQL = """
CREATE TABLE cdr (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  calldate DATETIME NOT NULL,
  clid VARCHAR(80) NOT NULL DEFAULT '', src VARCHAR(80) NOT NULL DEFAULT '',
  dst VARCHAR(80) NOT NULL DEFAULT '', dcontext VARCHAR(80) NOT NULL DEFAULT '',
  channel VARCHAR(80) NOT NULL DEFAULT '', dstchannel VARCHAR(80) NOT NULL DEFAULT '',
  lastapp VARCHAR(80) NOT NULL DEFAULT '', lastdata VARCHAR(80) NOT NULL DEFAULT '',
  duration INT NOT NULL DEFAULT 0, billsec INT NOT NULL DEFAULT 0,
  disposition VARCHAR(45) NOT NULL DEFAULT '', amaflags INT NOT NULL DEFAULT 0,
  accountcode VARCHAR(20) NOT NULL DEFAULT '', uniqueid VARCHAR(32) NOT NULL DEFAULT '',
  userfield VARCHAR(255) NOT NULL DEFAULT '',
  KEY calldate (calldate), KEY src (src), KEY dst (dst)
) CHARACTER SET utf8mb4
"""
"""cdr_mysql's usual table: ``calldate``, numeric amaflags, no answer/end/linkedid."""

ADAPTIVE = """
CREATE TABLE cdr_adaptive (
  accountcode VARCHAR(20), src VARCHAR(80), dst VARCHAR(80), dcontext VARCHAR(80),
  clid VARCHAR(80), channel VARCHAR(80), dstchannel VARCHAR(80), lastapp VARCHAR(80),
  lastdata VARCHAR(80), start DATETIME, answer DATETIME, end DATETIME, duration INTEGER,
  billsec INTEGER, disposition VARCHAR(45), amaflags VARCHAR(45), userfield VARCHAR(256),
  uniqueid VARCHAR(150), linkedid VARCHAR(150), peeraccount VARCHAR(20), sequence INTEGER,
  INDEX (start), INDEX (src), INDEX (dst)
) CHARACTER SET utf8mb4
"""
"""Asterisk's alembic table, which cdr_adaptive_odbc fills: start/answer/end, linkedid."""


@pytest.fixture(scope="module")
def tables(mariadb: MariaDb) -> MariaDb:
    conn = mariadb.connect()
    with conn.cursor() as cursor:
        cursor.execute(CDR_MYSQL)
        cursor.execute(ADAPTIVE)
        for i, (when, src, dst, disposition, billsec) in enumerate(ROWS):
            clid = f'"Иван" <{src}>'
            cursor.execute(
                "INSERT INTO cdr (calldate, clid, src, dst, dcontext, channel, lastapp,"
                " duration, billsec, disposition, amaflags, uniqueid)"
                " VALUES (%s, %s, %s, %s, 'from-trunk', 'PJSIP/t-1', 'Dial', %s, %s, %s, 3, %s)",
                (when, clid, src, dst, billsec + 2, billsec, disposition, f"u{i}"),
            )
            answer = when if disposition == "ANSWERED" else None
            cursor.execute(
                "INSERT INTO cdr_adaptive (start, answer, end, clid, src, dst, disposition,"
                " amaflags, uniqueid, linkedid, duration, billsec)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, 'BILLING', %s, %s, %s, %s)",
                (when, answer, when, clid, src, dst, disposition, f"a{i}", f"L{i}", 1, billsec),
            )
    conn.close()
    return mariadb


def history_section(db: MariaDb, **mysql: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "backend": "mysql",
        "pbx_timezone": "Europe/Moscow",
        "mysql": {
            "unix_socket": db.socket,
            "user": db.user,
            "password": db.password,
            "database": db.database,
            **mysql,
        },
    }


async def test_cdr_mysql_layout(
    simulator: Simulator, aiohttp_client: MakeClient, tables: MariaDb
) -> None:
    client = await start(simulator, aiohttp_client, history=history_section(tables))
    await check_filters(client)
    call = (await ask(client, number="9120000000"))["calls"][-1]
    assert call["start"] == "2026-11-20T10:00:00+03:00"
    assert (call["answer"], call["end"], call["linkedid"]) == (None, None, "")
    assert (call["amaflags"], call["clid"], call["billsec"]) == (
        "DOCUMENTATION",
        '"Иван" <+79120000000>',
        10,
    )


async def test_adaptive_layout(
    simulator: Simulator, aiohttp_client: MakeClient, tables: MariaDb
) -> None:
    section = history_section(tables, table="cdr_adaptive", layout="adaptive")
    client = await start(simulator, aiohttp_client, history=section)
    calls = (await ask(client, number="89120000000"))["calls"]
    assert [c["linkedid"] for c in calls] == ["L4", "L2", "L1", "L0"]
    assert calls[0]["answer"] == calls[0]["end"] == "2026-11-24T14:00:00+03:00"
    assert calls[1]["answer"] is None
    assert calls[0]["amaflags"] == "BILLING"


def config_for(db: MariaDb, **mysql: Any) -> HistoryConfig:
    where = {"unix_socket": db.socket, "user": db.user, "password": db.password, **mysql}
    return HistoryConfig(enabled=True, backend="mysql", mysql=DatabaseConfig(**where))


async def test_lookups_use_the_indexes(tables: MariaDb) -> None:
    source = MysqlSource(config_for(tables, table="cdr_big"))
    conn = tables.connect()
    with conn.cursor() as cursor:
        cursor.execute(CDR_MYSQL.replace("TABLE cdr (", "TABLE cdr_big ("))
        filler = [
            (f"2026-11-{1 + i % 28:02d} 10:00:00", str(7000 + i), str(i)) for i in range(3000)
        ]
        cursor.executemany("INSERT INTO cdr_big (calldate, src, dst) VALUES (%s, %s, %s)", filler)
        cursor.execute("ANALYZE TABLE cdr_big")
        cursor.fetchall()
        columns = {"calldate", "src", "dst", "disposition"}
        query = HistoryQuery(limit=5, number="9120000000")
        sql, params = source.plan(query, table_shape(columns, "auto", MYSQL))
        cursor.execute("EXPLAIN " + sql, params)
        keys = {row[5] for row in cursor.fetchall() if row[2] == "cdr_big"}
    conn.close()
    assert keys == {"src", "dst"}


async def test_database_failures_are_503(
    simulator: Simulator, aiohttp_client: MakeClient, tables: MariaDb, tmp_path: Any
) -> None:
    section = history_section(tables, table="nosuch")
    client = await start(simulator, aiohttp_client, history=section)
    assert "no table 'nosuch'" in (await ask(client, 503))["error"]
    down = MysqlSource(config_for(tables, unix_socket=str(tmp_path / "none.sock")))
    await check_unreachable(down, MysqlSource(config_for(tables)))
