"""Range and If-Range, sans I/O (gateway/http/ranges.py)."""

from __future__ import annotations

import pytest

from gateway.http.ranges import Outcome, Slice, choose, http_date, if_range_holds, strong_etag

SIZE = 1000
WHOLE = Slice(Outcome.WHOLE, 0, SIZE)
NONE = Slice(Outcome.UNSATISFIABLE, 0, 0)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, WHOLE),
        ("bytes=0-99", Slice(Outcome.PART, 0, 100)),
        ("bytes=100-", Slice(Outcome.PART, 100, 900)),
        ("bytes=-100", Slice(Outcome.PART, 900, 100)),
        ("bytes=-5000", Slice(Outcome.PART, 0, 1000)),  # a suffix longer than the file: all of it
        ("bytes=990-5000", Slice(Outcome.PART, 990, 10)),  # the end is clamped
        ("BYTES = 5 - 9 ", Slice(Outcome.PART, 5, 5)),
        ("bytes=999-999", Slice(Outcome.PART, 999, 1)),
        ("bytes=1000-", NONE),  # starts past the end
        ("bytes=-0", NONE),  # a suffix of nothing
        ("bytes=0-1,5-6", WHOLE),  # several ranges: ignored
        ("items=0-1", WHOLE),  # another unit: ignored
        ("bytes=9-5", WHOLE),  # an invalid spec: ignored
        ("bytes=-", WHOLE),
        ("bytes=x-1", WHOLE),
        ("bytes 0-1", WHOLE),
        ("bytes=" + "9" * 19 + "-", WHOLE),  # more digits than any file: not read
        ("bytes=" + "9" * 18 + "-", NONE),
    ],
)
def test_the_part_a_range_asks_for(header: str | None, expected: Slice) -> None:
    assert choose(header, SIZE) == expected


def test_an_empty_file_has_no_suffix() -> None:
    assert choose("bytes=-10", 0) == NONE
    assert choose("bytes=0-", 0) == NONE
    assert choose(None, 0) == Slice(Outcome.WHOLE, 0, 0)


def test_content_range_says_the_part_or_the_size() -> None:
    assert Slice(Outcome.PART, 10, 5).content_range(SIZE) == "bytes 10-14/1000"
    assert NONE.content_range(SIZE) == "bytes */1000"
    assert WHOLE.content_range(SIZE) is None


def test_if_range_must_name_the_file_as_it_is() -> None:
    etag = strong_etag(SIZE, 1_795_770_510_123_456_789)
    assert etag == f'"{1_795_770_510_123_456_789:x}-3e8"'
    mtime = 1_795_770_510.123
    assert if_range_holds(None, etag, mtime)
    assert if_range_holds(etag, etag, mtime)
    assert not if_range_holds('"other"', etag, mtime)
    assert not if_range_holds("W/" + etag, etag, mtime)  # weak: never
    assert if_range_holds(http_date(mtime), etag, mtime)
    assert not if_range_holds(http_date(mtime - 1), etag, mtime)
    assert not if_range_holds("yesterday", etag, mtime)
    assert http_date(mtime) == "Fri, 27 Nov 2026 09:08:30 GMT"
