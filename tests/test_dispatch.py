from __future__ import annotations

import pytest

from gateway.classes import ALL, CLASS_BITS
from gateway.dispatch import AmiFacts, _originate_timeout, event_mask


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
        ("", None),  # set_eventmask leaves the mask alone
        ("1", CLASS_BITS["system"]),  # a number is Asterisk's own bitmask
        ("0", 0),
        ("call", CLASS_BITS["call"]),
        ("call,system", CLASS_BITS["call"] | CLASS_BITS["system"]),
        ("bogus", 0),  # get_perm finds no class: Events: Off, not an error
        ("000", 0),
        ("-5", 0),  # not all digits: get_perm
        ("9" * 5000, None),  # atoi: strtol clamps, the int wraps to -1 (and int() has a limit)
        ("\u00b2", 0),  # a digit to isdigit(), not to Asterisk
    ],
)
def test_event_mask_follows_asterisk(value: str, mask: int | None) -> None:
    assert event_mask(value) == mask


def test_originate_timeout_from_the_action_or_asterisks_default() -> None:
    assert _originate_timeout([("Timeout", "10000")]) == 15.0
    assert _originate_timeout([]) == 35.0
    assert _originate_timeout([("Timeout", "soon")]) == 35.0
    assert _originate_timeout([("Timeout", "\u00b2")]) == 35.0  # isdigit(), yet not int()
    longest = (2**31 - 1) / 1000 + 5.0
    assert _originate_timeout([("Timeout", "9" * 400)]) == longest  # was an OverflowError: 500
    assert _originate_timeout([("Timeout", "9" * 5000)]) == longest
    assert _originate_timeout([("Timeout", "99999999999")]) == longest


def test_ami_facts_count_on_from_fully_booted() -> None:
    facts = AmiFacts()
    assert facts.now() == (0, 0)
    facts.uptime, facts.last_reload, facts.at = 100, 50, 1.0
    uptime, reload = facts.now()
    assert uptime >= 100
    assert reload >= 50
    assert uptime - 100 == reload - 50
