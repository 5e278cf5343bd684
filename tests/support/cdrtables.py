"""Asterisk's cdr tables in a real MariaDB or PostgreSQL, for the PBX-table backends.

Each server gets two tables holding ``historydata.CDR_ROWS``: the one its
cdr module writes (``cdr``: cdr_mysql's or cdr_pgsql's, with ``calldate`` and
numeric amaflags) and Asterisk's alembic one (``cdr_adaptive``, which
cdr_adaptive_odbc fills: start/answer/end, linkedid).  ``CdrTables`` is what
``tests/history/test_database_sources.py`` asks of either server.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Final

import asyncpg

from gateway.history.mysql_source import MysqlSource
from gateway.history.pg_source import PgSource
from gateway.history.query import HistoryQuery
from gateway.history.settings import DatabaseConfig, HistoryConfig
from gateway.history.sqlplan import MYSQL, POSTGRES, table_shape
from gateway.history.tablesource import TableSource
from tests.support.historydata import CDR_ROWS
from tests.support.mariadb import MariaDb
from tests.support.postgres import Postgres

LOOKUP = HistoryQuery(limit=5, number="9120000000")
"""The lookup whose plan must use the src and dst indexes."""
SEQ_SCAN = "seq scan"
"""What ``index_scans`` names a full table scan."""
_PG_INDEX_SCAN: Final = re.compile(r"(?:Index (?:Only )?Scan using|Bitmap Index Scan on) (\w+)")

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
  did VARCHAR(50) NOT NULL DEFAULT '', recordingfile VARCHAR(255) NOT NULL DEFAULT '',
  cnum VARCHAR(80), Note VARCHAR(20), sequence INT,
  KEY calldate (calldate), KEY src (src), KEY dst (dst)
) CHARACTER SET utf8mb4
"""
"""cdr_mysql's usual table: ``calldate``, numeric amaflags, no answer/end/linkedid;
with FreePBX's did, recordingfile and cnum (NULL on some rows), a column
spelt with a capital and a number."""

ADAPTIVE_MYSQL = """
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

CDR_PGSQL = """
CREATE TABLE cdr (
  calldate timestamp NOT NULL, clid varchar(80) NOT NULL DEFAULT '',
  src varchar(80) NOT NULL DEFAULT '', dst varchar(80) NOT NULL DEFAULT '',
  dcontext varchar(80) NOT NULL DEFAULT '', channel varchar(80) NOT NULL DEFAULT '',
  dstchannel varchar(80) NOT NULL DEFAULT '', lastapp varchar(80) NOT NULL DEFAULT '',
  lastdata varchar(80) NOT NULL DEFAULT '', duration bigint NOT NULL DEFAULT 0,
  billsec bigint NOT NULL DEFAULT 0, disposition varchar(45) NOT NULL DEFAULT '',
  amaflags bigint NOT NULL DEFAULT 0, accountcode varchar(20) NOT NULL DEFAULT '',
  uniqueid varchar(150) NOT NULL DEFAULT '', userfield varchar(255) NOT NULL DEFAULT '',
  did varchar(50) NOT NULL DEFAULT '', recordingfile varchar(255) NOT NULL DEFAULT '',
  cnum varchar(80), "Note" varchar(20), sequence integer
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
"""cdr_pgsql's usual table (``calldate``; with FreePBX's columns as in MySQL's,
``"Note"`` quoted so that only that spelling names it) and Asterisk's alembic one."""


def freepbx(i: int, src: str, disposition: str) -> tuple[str, str, str | None, str, int]:
    """did, recordingfile, cnum, Note and sequence of row ``i``: a recording of
    the answered calls (row 3's names a file outside the recordings), no cnum on
    odd rows."""
    recording = f"external-{src}-{i}.wav" if disposition == "ANSWERED" else ""
    if i == 3:
        recording = "../outside-3.wav"
    return "74950000000", recording, (src if i % 2 == 0 else None), f"n{i}", 100 + i


def clid(src: str) -> str:
    return f'"Иван" <{src}>'


class CdrTables:
    """One server's cdr tables, and where it listens and who logs in, as
    ``[history.<backend>]`` keys."""

    backend: ClassVar[str]
    """``[history] backend``: ``mysql`` or ``postgresql``."""
    adaptive: ClassVar[Mapping[str, str]]
    """The ``[history.<backend>]`` keys that read the alembic table."""
    indexes: ClassVar[frozenset[str]]
    """The names of the src and dst indexes of ``cdr``."""
    adaptive_clid: ClassVar[bool]
    """Whether its rows in ``cdr_adaptive`` have a clid (PostgreSQL's leave it NULL)."""

    def __init__(self, unix_socket: str, user: str, password: str, database: str) -> None:
        self._where = {
            "unix_socket": unix_socket,
            "user": user,
            "password": password,
            "database": database,
        }

    def section(self, **extra: Any) -> dict[str, Any]:
        where = {**self._where, **extra}
        return {"enabled": True, "backend": self.backend, "pbx_timezone": "Europe/Moscow",
                self.backend: where}  # fmt: skip

    def config(self, **extra: Any) -> HistoryConfig:
        where = DatabaseConfig(**{**self._where, **extra})
        if self.backend == "mysql":
            return HistoryConfig(enabled=True, backend="mysql", mysql=where)
        return HistoryConfig(enabled=True, backend="postgresql", postgresql=where)

    async def create(self) -> None:
        """Both tables afresh, holding ``CDR_ROWS``."""
        raise NotImplementedError

    def source(self, **extra: Any) -> TableSource:
        """The backend on this server (``extra``: ``DatabaseConfig`` keys)."""
        raise NotImplementedError

    def nowhere(self, tmp_path: Path) -> str:
        """A unix socket where no server listens."""
        raise NotImplementedError

    async def index_scans(self) -> set[str]:
        """The indexes ``LOOKUP`` reads on a ``cdr`` of thousands of rows
        (``SEQ_SCAN`` for a full scan)."""
        raise NotImplementedError


class MysqlTables(CdrTables):
    backend = "mysql"
    adaptive: ClassVar[Mapping[str, str]] = {"table": "cdr_adaptive", "layout": "adaptive"}
    indexes = frozenset({"src", "dst"})
    adaptive_clid = True

    def __init__(self, db: MariaDb) -> None:
        super().__init__(db.socket, db.user, db.password, db.database)
        self.db = db

    async def create(self) -> None:
        conn = self.db.connect()
        with conn.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS cdr, cdr_adaptive, cdr_big")
            cursor.execute(CDR_MYSQL)
            cursor.execute(ADAPTIVE_MYSQL)
            for i, (when, src, dst, disposition, billsec) in enumerate(CDR_ROWS):
                cursor.execute(
                    "INSERT INTO cdr (calldate, clid, src, dst, dcontext, channel, lastapp,"
                    " duration, billsec, disposition, amaflags, uniqueid, did, recordingfile,"
                    " cnum, Note, sequence) VALUES (%s, %s, %s, %s, 'from-trunk', 'PJSIP/t-1',"
                    " 'Dial', %s, %s, %s, 3, %s, %s, %s, %s, %s, %s)",
                    (when, clid(src), src, dst, billsec + 2, billsec, disposition, f"u{i}",
                     *freepbx(i, src, disposition)),
                )  # fmt: skip
                answer = when if disposition == "ANSWERED" else None
                cursor.execute(
                    "INSERT INTO cdr_adaptive (start, answer, end, clid, src, dst, disposition,"
                    " amaflags, uniqueid, linkedid, duration, billsec)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, 'BILLING', %s, %s, %s, %s)",
                    (when, answer, when, clid(src), src, dst, disposition, f"a{i}", f"L{i}", 1,
                     billsec),
                )  # fmt: skip
        conn.close()

    def source(self, **extra: Any) -> TableSource:
        return MysqlSource(self.config(**extra))

    def nowhere(self, tmp_path: Path) -> str:
        return str(tmp_path / "none.sock")

    async def index_scans(self) -> set[str]:
        source = self.source(table="cdr_big")
        conn = self.db.connect()
        with conn.cursor() as cursor:
            cursor.execute(CDR_MYSQL.replace("TABLE cdr (", "TABLE cdr_big ("))
            filler = [
                (f"2026-11-{1 + i % 28:02d} 10:00:00", str(7000 + i), str(i)) for i in range(3000)
            ]
            cursor.executemany(
                "INSERT INTO cdr_big (calldate, src, dst) VALUES (%s, %s, %s)", filler
            )
            cursor.execute("ANALYZE TABLE cdr_big")
            cursor.fetchall()
            shape = table_shape({"calldate", "src", "dst", "disposition"}, "auto", MYSQL)
            sql, params = source.plan(LOOKUP, shape)
            cursor.execute("EXPLAIN " + sql, params)
            rows = [row for row in cursor.fetchall() if row[2] == "cdr_big"]
        conn.close()
        return {row[5] or SEQ_SCAN for row in rows}


class PgTables(CdrTables):
    backend = "postgresql"
    adaptive: ClassVar[Mapping[str, str]] = {"table": "cdr_adaptive"}  # layout "auto" reads it
    indexes = frozenset({"cdr_src", "cdr_dst"})
    adaptive_clid = False

    def __init__(self, db: Postgres) -> None:
        super().__init__(db.socket_dir, db.user, db.password, db.database)
        self.db = db

    async def _connect(self) -> Any:
        db = self.db
        return await asyncpg.connect(
            host=db.socket_dir, user=db.user, password=db.password, database=db.database
        )

    async def create(self) -> None:
        conn = await self._connect()
        try:
            await conn.execute("DROP TABLE IF EXISTS cdr, cdr_adaptive")
            await conn.execute(CDR_PGSQL)
            for i, (when, src, dst, disposition, billsec) in enumerate(CDR_ROWS):
                moment = datetime.fromisoformat(when)
                answer = moment if disposition == "ANSWERED" else None
                await conn.execute(
                    "INSERT INTO cdr (calldate, clid, src, dst, billsec, disposition, amaflags,"
                    ' uniqueid, did, recordingfile, cnum, "Note", sequence)'
                    " VALUES ($1, $2, $3, $4, $5, $6, 3, $7, $8, $9, $10, $11, $12)",
                    moment, clid(src), src, dst, billsec, disposition, f"u{i}",
                    *freepbx(i, src, disposition),
                )  # fmt: skip
                await conn.execute(
                    'INSERT INTO cdr_adaptive (start, answer, "end", src, dst, disposition,'
                    " amaflags, linkedid) VALUES ($1, $2, $1, $3, $4, $5, 'BILLING', $6)",
                    moment, answer, src, dst, disposition, f"L{i}",
                )  # fmt: skip
        finally:
            await conn.close()

    def source(self, **extra: Any) -> TableSource:
        return PgSource(self.config(**extra))

    def nowhere(self, tmp_path: Path) -> str:
        return str(tmp_path)  # a directory without the server's socket

    async def index_scans(self) -> set[str]:
        conn = await self._connect()
        try:
            await conn.execute(
                "INSERT INTO cdr (calldate, src, dst) SELECT timestamp '2026-11-01' + n *"
                " interval '1 minute', (7000 + n)::text, n::text"
                " FROM generate_series(1, 5000) AS n"
            )
            await conn.execute("ANALYZE cdr")
            shape = table_shape({"calldate", "src", "dst"}, "auto", POSTGRES)
            sql, args = self.source(table="cdr").plan(LOOKUP, shape)
            plan = [row[0] for row in await conn.fetch("EXPLAIN " + sql, *args)]
        finally:
            await conn.close()
        used = {match.group(1) for line in plan for match in _PG_INDEX_SCAN.finditer(line)}
        return used | {SEQ_SCAN for line in plan if "Seq Scan" in line}
