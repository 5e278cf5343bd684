"""Reading the PBX's own ``cdr`` table in MariaDB/MySQL (aiomysql).

Both of Asterisk's layouts are read: cdr_mysql's (``calldate``, no answer or
end) and the alembic one that cdr_adaptive_odbc fills (``start``, ``answer``,
``end``, ``linkedid``).  ``layout = "auto"`` looks at the table's columns
once.  The table's numbers are not normalised, so a number is matched in the
spellings ``numbers.variants`` gives, exactly, which the usual ``src`` and
``dst`` indexes serve.  DATETIME columns hold the PBX's local time.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Final

import aiomysql

from gateway.errors import HistoryUnavailable
from gateway.history.config import HistoryConfig
from gateway.history.numbers import variants
from gateway.history.query import HistoryQuery
from gateway.history.record import AMA_FLAGS, TEXT_FIELDS, CdrRecord

log = logging.getLogger("gateway.history")

DB_ERRORS: Final = (aiomysql.Error, OSError, TimeoutError)


def select_list(columns: set[str], layout: str) -> tuple[str, str]:
    """The SELECT list for a table's columns, and the column that orders calls."""
    time_col = "calldate" if layout == "cdr_mysql" else "start"
    if layout == "auto":
        time_col = "calldate" if "calldate" in columns else "start"
    if time_col not in columns:
        raise HistoryUnavailable(f"the CDR table has no {time_col!r} column")

    def col(name: str, empty: str) -> str:
        return f"COALESCE(`{name}`, {empty})" if name in columns else empty

    parts = [f"`{time_col}`", col("answer", "NULL"), col("end", "NULL")]
    parts += [col("duration", "0"), col("billsec", "0")]
    parts += [col(name, "''") for name in TEXT_FIELDS]
    return ", ".join(parts), f"`{time_col}`"


class MysqlSource:
    def __init__(self, config: HistoryConfig) -> None:
        self.config = config
        self._pool: Any = None
        self._select: tuple[str, str] | None = None

    async def start(self) -> None:
        """No connection yet (minsize 0): the gateway starts while the database is down."""
        my = self.config.mysql
        where: dict[str, Any] = {"host": my.host, "port": my.port}
        if my.unix_socket:
            where = {"unix_socket": my.unix_socket}
        self._pool = await aiomysql.create_pool(
            minsize=0,
            maxsize=my.pool_size,
            user=my.user,
            password=my.password,
            db=my.database,
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=my.connect_timeout,
            pool_recycle=3600,
            **where,
        )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
            await pool.wait_closed()

    async def query(self, q: HistoryQuery) -> list[CdrRecord]:
        try:
            async with asyncio.timeout(self.config.query_timeout):
                return await self._query(q)
        except DB_ERRORS as exc:
            log.warning("history: the CDR database failed: %s", exc)
            raise HistoryUnavailable("the CDR database is not reachable") from exc

    async def _query(self, q: HistoryQuery) -> list[CdrRecord]:
        if self._pool is None:
            raise HistoryUnavailable
        async with self._pool.acquire() as conn, conn.cursor() as cursor:
            if self._select is None:
                self._select = await self._columns(cursor)
            sql, params = self.plan(q, *self._select)
            await cursor.execute(sql, params)
            rows = await cursor.fetchall()
        return [self._record(row) for row in rows]

    async def _columns(self, cursor: Any) -> tuple[str, str]:
        await cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = %s",
            (self.config.mysql.table,),
        )
        columns = {str(row[0]).lower() for row in await cursor.fetchall()}
        if not columns:
            raise HistoryUnavailable(f"no table {self.config.mysql.table!r} in the database")
        return select_list(columns, self.config.mysql.layout)

    def _local(self, epoch: int) -> datetime:
        zone = self.config.pbx_timezone
        return datetime.fromtimestamp(epoch, zone).replace(tzinfo=None)

    def plan(self, q: HistoryQuery, columns: str, order: str) -> tuple[str, list[object]]:
        rules = self.config.numbers
        common: list[str] = []
        args: list[object] = []
        for value, condition in (
            (q.since, f"{order} >= %s"),
            (q.until, f"{order} < %s"),
        ):
            if value is not None:
                common.append(condition)
                args.append(self._local(value))
        if q.disposition is not None:
            common.append("disposition = %s")
            args.append(q.disposition)
        table = f"`{self.config.mysql.table}`"

        def branch(conditions: list[str]) -> str:
            where = " AND ".join(conditions) or "1"
            return f"(SELECT {columns} FROM {table} WHERE {where} ORDER BY {order} DESC LIMIT %s)"

        def among(spellings: tuple[str, ...], column: str, negate: bool = False) -> str:
            marks = ", ".join(["%s"] * len(spellings))
            if negate:
                return f"COALESCE({column}, '') NOT IN ({marks})"
            return f"{column} IN ({marks})"  # bare, so that the column's index serves

        if q.number is not None:
            keys = variants(q.number, rules)
            src = branch([among(keys, "src"), *common])
            dst = branch([among(keys, "dst"), among(keys, "src", negate=True), *common])
            sql = f"{src} UNION ALL {dst} ORDER BY 1 DESC LIMIT %s"
            params = [*keys, *args, q.limit, *keys, *keys, *args, q.limit, q.limit]
            return sql, params
        lead: list[str] = []
        head: list[object] = []
        for number, column in ((q.caller, "src"), (q.callee, "dst")):
            if number is not None:
                keys = variants(number, rules)
                lead.append(among(keys, column))
                head += keys
        return branch([*lead, *common]), [*head, *args, q.limit]

    def _record(self, row: tuple[Any, ...]) -> CdrRecord:
        zone = self.config.pbx_timezone

        def epoch(value: Any) -> int | None:
            if not isinstance(value, datetime):
                return None  # NULL, or MariaDB's zero date
            return int(value.replace(tzinfo=zone).timestamp())

        texts = [("" if v is None else str(v)) for v in row[5:]]
        fields = dict(zip(TEXT_FIELDS, texts, strict=True))
        fields["amaflags"] = AMA_FLAGS.get(fields["amaflags"], fields["amaflags"])
        return CdrRecord(
            start=epoch(row[0]) or 0,
            answer=epoch(row[1]),
            end=epoch(row[2]),
            duration=int(row[3] or 0),
            billsec=int(row[4] or 0),
            **fields,
        )
