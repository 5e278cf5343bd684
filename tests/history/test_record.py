from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from gateway.ami.message import Message
from gateway.history.record import COLUMNS, from_event, iso, local_epoch, to_json
from tests.support.historydata import captured_cdrs, cdr_message

MOSCOW = ZoneInfo("Europe/Moscow")


def test_every_captured_cdr_parses() -> None:
    for fields in captured_cdrs():
        record = from_event(Message(fields), MOSCOW)
        assert record.start > 0
        assert record.end is not None
        assert record.end >= record.start
        assert record.uniqueid
        assert record.linkedid == ""  # the captures carry no LinkedID


def test_times_are_placed_in_the_pbx_zone() -> None:
    message = cdr_message({"StartTime": "2026-11-27 09:08:30", "AnswerTime": ""})
    record = from_event(message, MOSCOW)
    assert iso(record.start, MOSCOW) == "2026-11-27T09:08:30+03:00"
    assert iso(record.start, ZoneInfo("UTC")) == "2026-11-27T06:08:30+00:00"
    assert record.answer is None
    assert local_epoch("2026-11-27T09:08:30+00:00", MOSCOW) == record.start + 3 * 3600


def test_field_mapping() -> None:
    message = cdr_message({"Source": "+7 912", "LastData": "1", "Duration": "", "AMAFlags": "X"})
    record = from_event(message, MOSCOW)
    assert (record.src, record.lastdata, record.duration, record.amaflags) == (
        "+7 912",
        "1",
        0,
        "X",
    )
    out = to_json(record, MOSCOW)
    assert list(out) == list(COLUMNS)
    assert out["src"] == "+7 912"


def test_start_falls_back_to_end_and_bad_times_raise() -> None:
    record = from_event(cdr_message({"StartTime": ""}), MOSCOW)
    assert record.start == record.end
    with pytest.raises(ValueError, match="without StartTime"):
        from_event(cdr_message({"StartTime": "", "EndTime": ""}), MOSCOW)
    with pytest.raises(ValueError, match="Invalid isoformat"):
        from_event(cdr_message({"StartTime": "yesterday"}), MOSCOW)
