"""manager.conf's permission classes as bitmasks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.access.classes import (
    ALL,
    CLASS_BITS,
    CLASS_NAMES,
    NONE,
    format_classes,
    parse_classes,
    parse_privilege,
)


def test_each_class_has_its_own_bit() -> None:
    bits = list(CLASS_BITS.values())
    assert len(set(bits)) == len(CLASS_NAMES) == 19
    assert all(bit & (bit - 1) == 0 for bit in bits)  # powers of two
    assert sum(bits) == ALL


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", NONE),
        ("none", NONE),
        ("all", ALL),
        ("system", CLASS_BITS["system"]),
        (" Call , SYSTEM ", CLASS_BITS["call"] | CLASS_BITS["system"]),
        ("call,,call", CLASS_BITS["call"]),
        ("none,cdr", CLASS_BITS["cdr"]),
        (["reporting", "originate"], CLASS_BITS["reporting"] | CLASS_BITS["originate"]),
    ],
)
def test_parse_classes(spec: str | list[str], expected: int) -> None:
    assert parse_classes(spec) == expected


def test_an_unknown_class_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'sytem'"):
        parse_classes("call, sytem")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("call,all", CLASS_BITS["call"]),
        ("all", NONE),  # a marker Asterisk appends, not a class
        ("security,all", CLASS_BITS["security"]),
        ("system,call,future-class,all", CLASS_BITS["system"] | CLASS_BITS["call"]),
        ("", NONE),
    ],
)
def test_parse_privilege(header: str, expected: int) -> None:
    assert parse_privilege(header) == expected


@pytest.mark.parametrize(
    ("mask", "text"),
    [(ALL, "all"), (NONE, "none"), (CLASS_BITS["cdr"] | CLASS_BITS["call"], "call,cdr")],
)
def test_format_classes(mask: int, text: str) -> None:
    assert format_classes(mask) == text


@given(st.sets(st.sampled_from(CLASS_NAMES)))
def test_format_then_parse_round_trips(names: set[str]) -> None:
    mask = parse_classes(sorted(names))
    assert parse_classes(format_classes(mask)) == mask
