"""Reading the PBX's own ``cdr`` table in MariaDB/MySQL (aiomysql).

The SQL is ``sqlplan``'s, the rest ``tablesource``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiomysql

from gateway.history.settings import HistoryConfig
from gateway.history.sqlplan import MYSQL
from gateway.history.tablesource import TableSource


class MysqlSource(TableSource):
    dialect = MYSQL
    errors = (aiomysql.Error,)
    columns_sql = (
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = DATABASE() AND table_name = %s"
    )

    def __init__(self, config: HistoryConfig) -> None:
        super().__init__(config, config.mysql)

    async def start(self) -> None:
        """No connection yet (minsize 0): the gateway starts while the database is down."""
        db = self.db
        where: dict[str, Any] = {"host": db.host, "port": db.port or 3306}
        if db.unix_socket:
            where = {"unix_socket": db.unix_socket}
        self._pool = await aiomysql.create_pool(
            minsize=0,
            maxsize=db.pool_size,
            user=db.user,
            password=db.password,
            db=db.database,
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=db.connect_timeout,
            pool_recycle=3600,
            **where,
        )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
            await pool.wait_closed()

    async def fetch(self, sql: str, args: Sequence[object]) -> Sequence[Any]:
        async with self._pool.acquire() as conn, conn.cursor() as cursor:
            await cursor.execute(sql, tuple(args))
            return list(await cursor.fetchall())
