"""The embedded CDR store: one SQLite file in WAL mode.  No asyncio here.

The normalised numbers (``src_key``, ``dst_key``) are stored beside the raw
ones and indexed together with the start time, so a lookup by number reads
at most ``limit`` rows from each of two indexes, whatever the table's size.
One thread uses a store at a time (the recorder's worker thread).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Final

from gateway.errors import ConfigError
from gateway.history.location import prepare, write_problem
from gateway.history.numbers import normalise
from gateway.history.query import HistoryQuery
from gateway.history.record import COLUMNS, CdrRecord
from gateway.history.settings import DAY, HistoryConfig

SCHEMA_VERSION: Final = 1
_COLS: Final = ", ".join(f'"{c}"' for c in COLUMNS)
_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS cdr (
    id INTEGER PRIMARY KEY,
    start INTEGER NOT NULL, answer INTEGER, "end" INTEGER,
    duration INTEGER NOT NULL, billsec INTEGER NOT NULL,
    {", ".join(f"{c} TEXT NOT NULL" for c in COLUMNS[5:])},
    src_key TEXT NOT NULL, dst_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cdr_src_key ON cdr (src_key, start);
CREATE INDEX IF NOT EXISTS cdr_dst_key ON cdr (dst_key, start);
CREATE INDEX IF NOT EXISTS cdr_start ON cdr (start);
PRAGMA user_version = {SCHEMA_VERSION};
"""
_INSERT: Final = (
    f"INSERT INTO cdr ({_COLS}, src_key, dst_key) VALUES ({', '.join('?' * (len(COLUMNS) + 2))})"
)
BUSY_TIMEOUT_MS: Final = 5000
"""Another process holding the file (a backup) is waited for, not failed."""


def _branch(conditions: list[str]) -> str:
    """One indexed, newest-first, limited SELECT; wrapped so that UNION accepts it."""
    where = " AND ".join(conditions) or "1"
    return (
        f"SELECT * FROM (SELECT id, {_COLS} FROM cdr WHERE {where} "
        "ORDER BY start DESC, id DESC LIMIT :limit)"
    )


class SqliteStore:
    def __init__(self, config: HistoryConfig, path: str | None = None) -> None:
        self.config = config
        self.path = path or config.path
        try:
            prepare(self.path)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL survives a crash of the process; only power loss may
            # cost the last transactions, and it saves an fsync per batch.
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            why = write_problem(self.path) or f"[history] path: cannot use {self.path!r}: {exc}"
            raise ConfigError(why) from exc

    def close(self) -> None:
        self._db.close()

    def journal_mode(self) -> str:
        return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    def insert(self, records: list[CdrRecord]) -> int:
        """Write a batch in one transaction."""
        rules = self.config.numbers
        rows = [(*r.row(), normalise(r.src, rules), normalise(r.dst, rules)) for r in records]
        with self._transaction():
            self._db.executemany(_INSERT, rows)
        return len(rows)

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM cdr").fetchone()[0])

    def prune(self, now: float) -> int:
        """Apply ``retention_days`` and ``max_rows``; returns the rows deleted."""
        deleted = 0
        with self._transaction():
            if self.config.retention_days:
                cutoff = int(now) - self.config.retention_days * DAY
                deleted += self._db.execute("DELETE FROM cdr WHERE start < ?", (cutoff,)).rowcount
            if self.config.max_rows:
                deleted += self._db.execute(
                    "DELETE FROM cdr WHERE id <= "
                    "(SELECT id FROM cdr ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (self.config.max_rows,),
                ).rowcount
        return deleted

    def query(self, q: HistoryQuery) -> list[CdrRecord]:
        sql, params = self.plan(q)
        rows = self._db.execute(sql, params).fetchall()
        return [CdrRecord(*row[1:]) for row in rows]

    def plan(self, q: HistoryQuery) -> tuple[str, dict[str, object]]:
        """The SQL for a query: a UNION of two index lookups for ``number``."""
        rules = self.config.numbers
        params: dict[str, object] = {"limit": q.limit}
        common: list[str] = []
        for name, op in (("since", ">="), ("until", "<"), ("disposition", "=")):
            value = getattr(q, name)
            if value is not None:
                column = "start" if name in ("since", "until") else name
                common.append(f"{column} {op} :{name}")
                params[name] = value
        if q.number is not None:
            params["key"] = normalise(q.number, rules)
            src = _branch(["src_key = :key", *common])
            dst = _branch(["dst_key = :key", "src_key != :key", *common])
            sql = f"{src} UNION ALL {dst} ORDER BY start DESC, id DESC LIMIT :limit"
            return sql, params
        if q.caller is not None:
            params["caller"] = normalise(q.caller, rules)
            common.insert(0, "src_key = :caller")
        if q.callee is not None:
            params["callee"] = normalise(q.callee, rules)
            common.insert(0, "dst_key = :callee")
        return _branch(common), params

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
