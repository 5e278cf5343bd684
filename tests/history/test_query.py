from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.errors import InvalidField
from gateway.history.query import HistoryQuery, parse_query
from gateway.history.settings import HistoryConfig

CONFIG = HistoryConfig(pbx_timezone=ZoneInfo("Europe/Moscow"), limit_max=100)


def test_defaults_and_values() -> None:
    assert parse_query({}, CONFIG) == HistoryQuery(limit=20)
    query = parse_query(
        {
            "number": 89120000000,
            "limit": "7",
            "since": "2026-11-27",
            "until": "2026-11-28T00:00:00Z",
            "disposition": "no answer",
            "mansession_id": "x",
        },
        CONFIG,
    )
    assert query.number == "89120000000"
    assert query.limit == 7
    assert query.since == 1795726800  # midnight in Moscow, 21:00 UTC the day before
    assert query.until == 1795824000
    assert query.disposition == "NO ANSWER"


def test_limit_is_capped_and_empty_values_are_absent() -> None:
    assert parse_query({"limit": 10_000}, CONFIG).limit == 100
    assert parse_query({"caller": "", "callee": "100", "since": None}, CONFIG) == HistoryQuery(
        limit=20, callee="100"
    )


@pytest.mark.parametrize(
    ("params", "field", "text"),
    [
        ({"limit": 0}, "limit", "at least 1"),
        ({"limit": "1.5"}, "limit", "integer"),
        ({"limit": 1.5}, "limit", "integer"),
        ({"limit": "9" * 20}, "limit", "integer"),
        ({"since": "2026-02-30"}, "since", "ISO-8601"),
        ({"since": "2" * 80}, "since", "ISO-8601"),
        ({"until": 5}, "until", "ISO-8601"),
        ({"caller": {"a": 1}}, "caller", "must be a string"),
        ({"callee": False}, "callee", "must be a string"),
        ({"number": "+" * 33}, "number", "longer than 32"),
        ({"number": "---"}, "number", "no digits"),
        ({"number": "1", "callee": "2"}, "number", "not both"),
        ({"disposition": 3}, "disposition", "one of"),
        ({"since": "2026-11-02", "until": "2026-11-02"}, "until", "after since"),
        ({"Number": "1"}, "Number", "unknown parameter"),
    ],
)
def test_refusals_name_the_field(params: dict[str, Any], field: str, text: str) -> None:
    with pytest.raises(InvalidField) as info:
        parse_query(params, CONFIG)
    assert info.value.field == field
    assert text in info.value.message
    assert info.value.status == 400
