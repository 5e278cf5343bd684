from __future__ import annotations

import pytest

from gateway.access.classes import ALL, CLASS_BITS
from gateway.core.dispatch import _is_true, _originate_timeout, event_mask


@pytest.mark.parametrize(
    ("value", "mask"),
    [
        ("on", ALL),
        ("ON", ALL),
        ("yes", ALL),
        ("all", ALL),
        ("off", 0),
        ("no", 0),
        ("none", 0),
        ("", 0),
        ("1", ALL),
        ("0", 0),
        ("call", CLASS_BITS["call"]),
        ("call,system", CLASS_BITS["call"] | CLASS_BITS["system"]),
        ("bogus", None),
        ("000", 0),
        ("-5", ALL),
        ("9" * 5000, ALL),  # int() refuses so many digits: was a 500
        ("\u00b2", None),  # a digit to isdigit(), not to int(): was a 500
    ],
)
def test_event_mask_follows_asterisk(value: str, mask: int | None) -> None:
    assert event_mask(value) == mask


def test_ast_true() -> None:
    assert all(_is_true(v) for v in ("yes", "true", "1", "on", "Y", "t"))
    assert not any(_is_true(v) for v in ("no", "false", "0", "", None))


def test_originate_timeout_from_the_action_or_asterisks_default() -> None:
    assert _originate_timeout([("Timeout", "10000")]) == 15.0
    assert _originate_timeout([]) == 35.0
    assert _originate_timeout([("Timeout", "soon")]) == 35.0
    assert _originate_timeout([("Timeout", "\u00b2")]) == 35.0  # isdigit(), yet not int()
    longest = (2**31 - 1) / 1000 + 5.0
    assert _originate_timeout([("Timeout", "9" * 400)]) == longest  # was an OverflowError: 500
    assert _originate_timeout([("Timeout", "9" * 5000)]) == longest
    assert _originate_timeout([("Timeout", "99999999999")]) == longest
