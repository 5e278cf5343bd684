"""The metric names a PromQL expression reads (for the rules and the
dashboard), without a PromQL parser: strings, label matchers, ranges and
label lists are removed; what is left that is neither a keyword nor called
like a function is a metric name."""

from __future__ import annotations

import re
from typing import Final

KEYWORDS: Final = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
    | {"group_left", "group_right", "inf", "nan"}
)
REMOVED: Final = (
    re.compile(r'"(?:[^"\\]|\\.)*"'),  # strings (label values)
    re.compile(r"\{[^}]*\}"),  # label matchers
    re.compile(r"\[[^\]]*\]"),  # range and subquery durations
    re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"),
)
NAME: Final = re.compile(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    for pattern in REMOVED:
        expr = pattern.sub(" ", expr)
    names = set()
    for match in NAME.finditer(expr):
        called = expr[match.end() :].lstrip().startswith("(")
        if not called and match.group().lower() not in KEYWORDS:
            names.add(match.group())
    return names


PROMETHEUS_OWN: Final = frozenset({"up"})
"""Series Prometheus itself makes for every scrape target."""


def unknown(used: set[str], exported: frozenset[str]) -> set[str]:
    """Names in ``used`` that the gateway does not export (none may be)."""
    return used - exported - PROMETHEUS_OWN
