"""The SELECT for a PBX's own CDR table, for MySQL/MariaDB and PostgreSQL.

Both of Asterisk's layouts are read: cdr_mysql's/cdr_pgsql's (``calldate``,
no answer or end) and the alembic one that cdr_adaptive_odbc fills
(``start``, ``answer``, ``end``, ``linkedid``).  The table's numbers are not
normalised, so a number is matched in the spellings ``numbers.variants``
gives, exactly, which the usual ``src`` and ``dst`` indexes serve.  DATETIME
and ``timestamp`` columns hold the PBX's local time.  No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from gateway.errors import HistoryUnavailable
from gateway.history.numbers import variants
from gateway.history.query import HistoryQuery
from gateway.history.record import AMA_FLAGS, TEXT_FIELDS, CdrRecord
from gateway.history.settings import NumberRules


@dataclass(frozen=True, slots=True)
class Dialect:
    quote: str
    placeholder: Callable[[int], str]
    """The n-th (1-based) parameter's marker."""
    text: str
    """The type a column is cast to for COALESCE with '' (cdr_mysql's amaflags is a number)."""

    def name(self, identifier: str) -> str:
        return f"{self.quote}{identifier}{self.quote}"


MYSQL: Final = Dialect("`", lambda n: "%s", "CHAR")
POSTGRES: Final = Dialect('"', lambda n: f"${n}", "TEXT")


@dataclass(frozen=True, slots=True)
class Shape:
    """What a table's columns allow: the SELECT list and the ordering column."""

    columns: str
    order: str
    extra: tuple[str, ...] = ()
    """The names ``[history] extra_columns`` gives the extra columns, in the SELECT's order."""
    actual: Mapping[str, str] = field(default_factory=dict)
    """Each column's name as the table spells it, by its lower-case name."""

    def has(self, name: str) -> bool:
        return name.lower() in self.actual

    def name(self, dialect: Dialect, column: str) -> str:
        """A column of the table, quoted as the table spells it."""
        return dialect.name(self.actual.get(column.lower(), column))


def missing_column(name: str, key: str) -> HistoryUnavailable:
    """The 503 for a column that ``[history] <key>`` names and the table lacks."""
    return HistoryUnavailable(f"the CDR table has no column {name!r} (named in [history] {key})")


def table_shape(
    columns: Collection[str], layout: str, dialect: Dialect, extra: tuple[str, ...] = ()
) -> Shape:
    """The SELECT for a table with these columns; ``extra`` must be among them."""
    actual = {name.lower(): name for name in columns}
    time_col = "calldate" if layout == "cdr_mysql" else "start"
    if layout == "auto":
        time_col = "calldate" if "calldate" in actual else "start"
    if time_col not in actual:
        raise HistoryUnavailable(f"the CDR table has no {time_col!r} column")
    for name in extra:
        if name.lower() not in actual:
            raise missing_column(name, "extra_columns")

    def col(name: str, empty: str, cast: str | None = None) -> str:
        if name not in actual:
            return empty
        value = dialect.name(actual[name])
        return f"COALESCE(CAST({value} AS {cast}), {empty})" if cast else value

    parts = [dialect.name(actual[time_col]), col("answer", "NULL"), col("end", "NULL")]
    parts += [col("duration", "0"), col("billsec", "0")]
    parts += [col(name, "''", dialect.text) for name in TEXT_FIELDS]
    # Extra columns as text, NULL kept: whatever their type, JSON gets a string or null.
    parts += [f"CAST({dialect.name(actual[n.lower()])} AS {dialect.text})" for n in extra]
    return Shape(", ".join(parts), dialect.name(actual[time_col]), extra, actual)


def shape_of(
    rows: Any, table: str, layout: str, dialect: Dialect, extra: tuple[str, ...] = ()
) -> Shape:
    """``information_schema`` rows (column names) to the table's shape."""
    columns = {str(row[0]) for row in rows}
    if not columns:
        raise HistoryUnavailable(f"no table {table!r} in the database")
    return table_shape(columns, layout, dialect, extra)


class _Args:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.values: list[object] = []

    def add(self, value: object) -> str:
        self.values.append(value)
        return self.dialect.placeholder(len(self.values))

    def among(self, spellings: tuple[str, ...], column: str, negate: bool = False) -> str:
        marks = ", ".join(self.add(s) for s in spellings)
        if negate:
            return f"COALESCE({column}, '') NOT IN ({marks})"
        return f"{column} IN ({marks})"  # bare, so that the column's index serves


def plan(
    q: HistoryQuery, rules: NumberRules, zone: ZoneInfo, table: str, shape: Shape, dialect: Dialect
) -> tuple[str, list[object]]:
    """The SQL and its parameters: for ``number``, a UNION of two index lookups."""
    args = _Args(dialect)
    src, dst = dialect.name("src"), dialect.name("dst")

    def local(epoch: int) -> datetime:
        return datetime.fromtimestamp(epoch, zone).replace(tzinfo=None)

    def branch(leading: Callable[[], list[str]]) -> str:
        conditions = leading()
        if q.since is not None:
            conditions.append(f"{shape.order} >= {args.add(local(q.since))}")
        if q.until is not None:
            conditions.append(f"{shape.order} < {args.add(local(q.until))}")
        if q.disposition is not None:
            conditions.append(f"{dialect.name('disposition')} = {args.add(q.disposition)}")
        where = " AND ".join(conditions) or "1 = 1"
        return (
            f"(SELECT {shape.columns} FROM {dialect.name(table)} WHERE {where} "
            f"ORDER BY {shape.order} DESC LIMIT {args.add(q.limit)})"
        )

    if q.number is not None:
        keys = variants(q.number, rules)
        first = branch(lambda: [args.among(keys, src)])
        second = branch(lambda: [args.among(keys, dst), args.among(keys, src, negate=True)])
        return f"{first} UNION ALL {second} ORDER BY 1 DESC LIMIT {args.add(q.limit)}", args.values

    def numbers() -> list[str]:
        lead = []
        for number, column in ((q.caller, src), (q.callee, dst)):
            if number is not None:
                lead.append(args.among(variants(number, rules), column))
        return lead

    return branch(numbers), args.values


def recording_plan(shape: Shape, dialect: Dialect, table: str, column: str, by: str) -> str:
    """The newest CDR whose ``by`` (uniqueid or linkedid) is the one parameter and
    that names a recording in ``column``: that name, and the call's start."""
    named = shape.name(dialect, column)
    return (
        f"SELECT {named}, {shape.order} FROM {dialect.name(table)}"
        f" WHERE {shape.name(dialect, by)} = {dialect.placeholder(1)} AND {named} <> ''"
        f" ORDER BY {shape.order} DESC LIMIT 1"
    )


def local_epoch(value: Any, zone: ZoneInfo) -> int | None:
    """A DATETIME or timestamp of the table to epoch seconds; naive times are the PBX's."""
    if not isinstance(value, datetime):
        return None  # NULL, or MariaDB's zero date
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return int(value.timestamp())


def to_record(row: tuple[Any, ...] | Any, zone: ZoneInfo, extra: tuple[str, ...] = ()) -> CdrRecord:
    """A row of the SELECT above to a record; naive times are the PBX's."""

    def epoch(value: Any) -> int | None:
        return local_epoch(value, zone)

    values = tuple(row)
    standard = 5 + len(TEXT_FIELDS)
    texts = [("" if v is None else str(v)) for v in values[5:standard]]
    fields = dict(zip(TEXT_FIELDS, texts, strict=True))
    fields["amaflags"] = AMA_FLAGS.get(fields["amaflags"], fields["amaflags"])
    return CdrRecord(
        start=epoch(row[0]) or 0,
        answer=epoch(row[1]),
        end=epoch(row[2]),
        duration=int(row[3] or 0),
        billsec=int(row[4] or 0),
        **fields,
        extra=tuple(
            (name, None if value is None else str(value))
            for name, value in zip(extra, values[standard:], strict=True)
        ),
    )
