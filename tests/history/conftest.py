from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.history.settings import HistoryConfig
from gateway.history.sqlite_store import SqliteStore
from tests.support.cdrtables import CdrTables, MysqlTables, PgTables
from tests.support.mariadb import MariaDb, mariadb_server
from tests.support.postgres import Postgres, postgres_server


@pytest.fixture(scope="module")
def mariadb() -> Iterator[MariaDb]:
    with mariadb_server() as db:
        yield db


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as db:
        yield db


@pytest.fixture(params=["mysql", "postgresql"])
async def cdr_tables(request: pytest.FixtureRequest) -> CdrTables:
    """The PBX's cdr tables in a real MariaDB, then in a real PostgreSQL."""
    tables: CdrTables
    if request.param == "mysql":
        tables = MysqlTables(request.getfixturevalue("mariadb"))
    else:
        tables = PgTables(request.getfixturevalue("postgres"))
    await tables.create()
    return tables


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(HistoryConfig(path=str(tmp_path / "s.sqlite3")))
