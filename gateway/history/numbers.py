"""Phone numbers to search keys.

``+7 912 000-00-00``, ``89120000000`` and ``9120000000`` must find the same
calls.  The embedded store keeps a normalised copy of src and dst (digits
only, then the last ``keep_last`` digits) and looks that up by index.  A
PBX's own table has no such column, so for it the key is spelled out in the
forms a dialplan stores (``variants``) and matched exactly, still by index.
"""

from __future__ import annotations

from gateway.history.settings import NumberRules


def digits(raw: str) -> str:
    return "".join(ch for ch in raw if "0" <= ch <= "9")


def normalise(raw: str, rules: NumberRules) -> str:
    """The search key of a number; short internal extensions stay as they are."""
    only = digits(raw)
    if rules.keep_last and len(only) > rules.keep_last:
        return only[-rules.keep_last :]
    return only


def variants(raw: str, rules: NumberRules) -> tuple[str, ...]:
    """The spellings of ``raw`` that a CDR table may hold, for an exact match."""
    key = normalise(raw, rules)
    if not key:
        return ()
    found = [key, digits(raw), raw.strip()]
    if not rules.keep_last or len(key) == rules.keep_last:
        found += [prefix + key for prefix in rules.prefixes]
    return tuple(dict.fromkeys(v for v in found if v))
