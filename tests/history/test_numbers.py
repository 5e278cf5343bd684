from __future__ import annotations

from gateway.history.numbers import digits, normalise, variants
from gateway.history.settings import NumberRules

RULES = NumberRules()


def test_the_three_spellings_meet() -> None:
    keys = {normalise(n, RULES) for n in ("+7 912 000-00-00", "89120000000", "9120000000")}
    assert keys == {"9120000000"}


def test_short_numbers_and_no_trimming() -> None:
    assert normalise("100", RULES) == "100"
    assert normalise("(100)", RULES) == "100"
    assert normalise("+7 912 000-00-00", NumberRules(keep_last=0)) == "79120000000"
    assert digits("a1b2") == "12"
    assert normalise("anonymous", RULES) == ""


def test_variants_spell_out_the_prefixes() -> None:
    assert variants("+7 912 000-00-00", RULES) == (
        "9120000000",
        "79120000000",
        "+7 912 000-00-00",
        "89120000000",
        "+79120000000",
    )
    assert variants("100", RULES) == ("100",)  # an extension gets no national prefix
    assert variants("", RULES) == ()
    assert "89120000000" in variants("9120000000", NumberRules(keep_last=0, prefixes=("8",)))
