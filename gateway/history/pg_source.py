"""Reading the PBX's own ``cdr`` table in PostgreSQL (asyncpg).

The SQL is ``sqlplan``'s, the rest ``tablesource``'s; cdr_pgsql's table
(``calldate``) and the alembic one (``start``/``answer``/``"end"``) are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from gateway.history.settings import HistoryConfig
from gateway.history.sqlplan import POSTGRES
from gateway.history.tablesource import TableSource


class PgSource(TableSource):
    dialect = POSTGRES
    errors = (asyncpg.PostgresError, asyncpg.InterfaceError)
    columns_sql = (
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = $1"
    )

    def __init__(self, config: HistoryConfig) -> None:
        super().__init__(config, config.postgresql)

    async def start(self) -> None:
        """No connection yet (min_size 0): the gateway starts while the database is down."""
        db = self.db
        self._pool = await asyncpg.create_pool(
            host=db.unix_socket or db.host,
            port=db.port or 5432,
            user=db.user,
            password=db.password,
            database=db.database,
            min_size=0,
            max_size=db.pool_size,
            timeout=db.connect_timeout,
        )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def fetch(self, sql: str, args: Sequence[object]) -> Sequence[Any]:
        async with self._pool.acquire() as conn:
            return list(await conn.fetch(sql, *args))
