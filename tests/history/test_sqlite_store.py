from __future__ import annotations

import dataclasses
import os
import stat
import time
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.history.query import HistoryQuery
from gateway.history.record import CdrRecord
from gateway.history.settings import DAY, HistoryConfig
from gateway.history.sqlite_store import SqliteStore

T0 = 1_795_000_000


def rec(src: str, dst: str, start: int, disposition: str = "ANSWERED") -> CdrRecord:
    return CdrRecord(start, None, start + 5, 5, 0, src=src, dst=dst, disposition=disposition)


def test_wal_schema_and_round_trip(store: SqliteStore) -> None:
    assert store.journal_mode() == "wal"
    record = CdrRecord(T0, T0 + 1, T0 + 9, 9, 8, clid='"Ан" <1>', src="1", linkedid="L")
    assert store.insert([record]) == 1
    assert store.query(HistoryQuery(limit=5)) == [record]
    store.close()


def test_number_matches_either_side_once(store: SqliteStore) -> None:
    store.insert([
        rec("+7 912 000-00-00", "100", T0),
        rec("100", "89120000000", T0 + 10),
        rec("9120000000", "9120000000", T0 + 20),  # both sides: one answer row
        rec("300", "400", T0 + 30),
    ])  # fmt: skip
    found = store.query(HistoryQuery(limit=10, number="9120000000"))
    assert [r.start for r in found] == [T0 + 20, T0 + 10, T0]
    assert [r.start for r in store.query(HistoryQuery(limit=2, number="89120000000"))] == [
        T0 + 20,
        T0 + 10,
    ]
    both = HistoryQuery(limit=10, caller="100", callee="+79120000000")
    assert [r.start for r in store.query(both)] == [T0 + 10]
    window = HistoryQuery(limit=10, number="9120000000", since=T0 + 5, until=T0 + 20)
    assert [r.start for r in store.query(window)] == [T0 + 10]


def test_the_plan_uses_the_indexes(store: SqliteStore) -> None:
    sql, params = store.plan(HistoryQuery(limit=5, number="9120000000", disposition="BUSY"))
    plan = " ".join(row[3] for row in store._db.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "cdr_src_key" in plan
    assert "cdr_dst_key" in plan
    assert "SCAN cdr" not in plan
    sql, params = store.plan(HistoryQuery(limit=5))
    plan = " ".join(row[3] for row in store._db.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "cdr_start" in plan


def test_retention_by_age_and_by_rows(tmp_path: Path) -> None:
    now = time.time()
    config = HistoryConfig(path=str(tmp_path / "r.sqlite3"), retention_days=2, max_rows=3)
    store = SqliteStore(config)
    ages = (5, 3, 1.5, 1, 0.5, 0.1)
    store.insert([rec(str(i), "1", int(now - days * DAY)) for i, days in enumerate(ages)])
    assert store.prune(now) == 3  # two older than 2 days, then one above 3 rows
    assert [r.src for r in store.query(HistoryQuery(limit=10))] == ["5", "4", "3"]
    assert store.prune(now) == 0
    keep_all = SqliteStore(dataclasses.replace(config, retention_days=0, max_rows=0))
    assert keep_all.prune(now + 100 * DAY) == 0
    assert keep_all.count() == 3


def test_a_failed_batch_is_rolled_back(store: SqliteStore) -> None:
    bad = dataclasses.replace(rec("1", "2", T0), clid=None)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="NOT NULL"):
        store.insert([rec("1", "2", T0), bad])
    assert store.count() == 0


def test_an_unusable_path_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=r"\[history\] path .*: .*/file is not a directory"):
        SqliteStore(HistoryConfig(path=str(blocker / "x.sqlite3")))
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"not SQLite " * 200)
    with pytest.raises(
        ConfigError, match=r"\[history\] path: cannot use .*: file is not a database"
    ):
        SqliteStore(HistoryConfig(path=str(garbage)))


def test_a_missing_directory_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "a" / "history.sqlite3"
    SqliteStore(HistoryConfig(path=str(path))).close()
    assert path.is_file()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
