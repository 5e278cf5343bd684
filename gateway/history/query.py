"""A history request's parameters, checked: every refusal names its field.

Parameters come as a mapping from a JSON object, a form body or a query
string (form values are strings; JSON may also give numbers).  Nothing here
knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from gateway.errors import InvalidField
from gateway.history.numbers import digits
from gateway.history.settings import HistoryConfig

DISPOSITIONS: Final = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")
"""Asterisk's CDR dispositions."""
PARAMETERS: Final = frozenset(
    {"number", "caller", "callee", "limit", "since", "until", "disposition", "mansession_id"}
)
EARLIEST: Final = datetime(1, 1, 2, tzinfo=UTC)
LATEST: Final = datetime(9999, 12, 31, tzinfo=UTC)
"""A time must fall in [EARLIEST, LATEST): a day inside what ``datetime``
holds, so that no time zone (UTC-12 to UTC+14) moves it out of range when a
backend turns it into the PBX's local time."""
_DAYS: Final = f"{EARLIEST.date()} and {LATEST.date() - timedelta(days=1)}"
MAX_TIME_LENGTH: Final = 64
"""An ISO-8601 time is ~32 characters; anything much longer is not one."""


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """What to look up: raw numbers (each backend normalises them its own way)."""

    limit: int
    number: str | None = None
    caller: str | None = None
    callee: str | None = None
    since: int | None = None
    """Epoch seconds, inclusive."""
    until: int | None = None
    """Epoch seconds, exclusive."""
    disposition: str | None = None


def _text(name: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidField(f"{name} must be a string", name)
    return str(value)


def _number(name: str, value: object, config: HistoryConfig) -> str:
    text = _text(name, value)
    if len(text) > config.numbers.max_length:
        raise InvalidField(f"{name} is longer than {config.numbers.max_length} characters", name)
    if not digits(text):
        raise InvalidField(f"{name} holds no digits", name)
    return text


def _limit(value: object, config: HistoryConfig) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidField("limit must be an integer", "limit")
    text = str(value).strip()
    digits = text.lstrip("-")
    if not (digits.isascii() and digits.isdigit()) or len(text) > 12:  # "²" fails int()
        raise InvalidField("limit must be an integer", "limit")
    limit = int(text)
    if limit < 1:
        raise InvalidField("limit must be at least 1", "limit")
    return min(limit, config.limit_max)


def _time(name: str, value: object, config: HistoryConfig) -> int:
    text = _text(name, value).strip()
    if len(text) > MAX_TIME_LENGTH:
        raise InvalidField(f"{name} is not an ISO-8601 time", name)
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise InvalidField(f"{name} is not an ISO-8601 time", name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=config.pbx_timezone)
    if not EARLIEST <= moment < LATEST:  # aware times compare as UTC, without overflow
        raise InvalidField(f"{name} must be between {_DAYS} (UTC)", name)
    return int(moment.timestamp())


def _disposition(value: object) -> str:
    text = _text("disposition", value).strip().upper().replace("_", " ")
    if text not in DISPOSITIONS:
        raise InvalidField(f"disposition must be one of {', '.join(DISPOSITIONS)}", "disposition")
    return text


def parse_query(params: Mapping[str, object], config: HistoryConfig) -> HistoryQuery:
    for name in params:
        if name not in PARAMETERS:
            raise InvalidField(f"unknown parameter {name!r}", name)
    get = {name: value for name, value in params.items() if value is not None and value != ""}
    numbers = {n: _number(n, get[n], config) for n in ("number", "caller", "callee") if n in get}
    if "number" in numbers and len(numbers) > 1:
        raise InvalidField("give number, or caller and/or callee, not both", "number")
    since = _time("since", get["since"], config) if "since" in get else None
    until = _time("until", get["until"], config) if "until" in get else None
    if since is not None and until is not None and until <= since:
        raise InvalidField("until must be after since", "until")
    return HistoryQuery(
        limit=_limit(get["limit"], config) if "limit" in get else config.limit_default,
        number=numbers.get("number"),
        caller=numbers.get("caller"),
        callee=numbers.get("callee"),
        since=since,
        until=until,
        disposition=_disposition(get["disposition"]) if "disposition" in get else None,
    )
