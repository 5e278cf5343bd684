from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.errors import HistoryUnavailable
from gateway.history.query import HistoryQuery
from gateway.history.settings import NumberRules
from gateway.history.sqlplan import MYSQL, POSTGRES, plan, table_shape, to_record

MOSCOW = ZoneInfo("Europe/Moscow")


def test_the_shape_follows_the_layout() -> None:
    shape = table_shape({"calldate", "src", "start", "amaflags"}, "auto", MYSQL)
    assert shape.order == "`calldate`"
    assert "COALESCE(CAST(`amaflags` AS CHAR), '')" in shape.columns
    assert "NULL" in shape.columns  # no answer or end column
    assert table_shape({"start"}, "adaptive", POSTGRES).order == '"start"'
    assert table_shape({"start", "end"}, "auto", POSTGRES).columns.startswith(
        '"start", NULL, "end"'
    )
    with pytest.raises(HistoryUnavailable, match="'calldate'"):
        table_shape({"start"}, "cdr_mysql", MYSQL)


def test_postgres_parameters_are_numbered_in_order() -> None:
    shape = table_shape({"calldate", "src", "dst", "disposition"}, "auto", POSTGRES)
    query = HistoryQuery(limit=3, number="9120000000", since=0, until=86400, disposition="BUSY")
    sql, args = plan(query, NumberRules(), MOSCOW, "cdr", shape, POSTGRES)
    numbers = [int(n) for n in re.findall(r"\$(\d+)", sql)]
    assert numbers == list(range(1, len(args) + 1))
    assert args[-1] == 3
    assert datetime(1970, 1, 1, 3, 0) in args  # since, as the PBX's local time
    assert "UNION ALL" in sql


def test_mysql_caller_and_callee() -> None:
    shape = table_shape({"calldate", "src", "dst"}, "auto", MYSQL)
    query = HistoryQuery(limit=2, caller="100", callee="+7 912 000-00-00")
    sql, args = plan(query, NumberRules(), MOSCOW, "cdr", shape, MYSQL)
    assert sql.count("%s") == len(args)
    assert "`src` IN (%s)" in sql
    assert args[0] == "100"
    assert "89120000000" in args
    sql, args = plan(HistoryQuery(limit=2), NumberRules(), MOSCOW, "cdr", shape, MYSQL)
    assert "WHERE 1 = 1" in sql
    assert args == [2]


def test_rows_become_records() -> None:
    aware = datetime(2026, 11, 27, 6, 0, tzinfo=ZoneInfo("UTC"))
    naive = datetime(2026, 11, 27, 9, 0)
    texts = ["clid", "100", "200", "ctx", "ch", "", "Dial", "", "ANSWERED", "3", "", "u1", None]
    record = to_record((naive, aware, "0000-00-00", None, 5, *texts, ""), MOSCOW)
    assert record.start == record.answer == int(aware.timestamp())
    assert record.end is None
    assert (record.duration, record.billsec, record.amaflags) == (0, 5, "DOCUMENTATION")
    assert record.linkedid == ""
