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

NOT_YET_EXPORTED: Final = frozenset(
    {"process_open_fds", "process_max_fds", "process_resident_memory_bytes"}
    | {"process_cpu_seconds_total"}
)
"""prometheus-client's process collector, which issue 15 adds to the
gateway's own registry in a separate change to gateway/ (fds against
LimitNOFILE, RSS, CPU). Until that lands these are the only names the rules
and the dashboard may use that a running gateway does not export; once it
has, they must all be there (``unknown`` says so)."""


def unknown(used: set[str], exported: frozenset[str]) -> set[str]:
    """Names in ``used`` that the gateway does not export and are not allowed
    to be missing; the process names are all there or all missing."""
    process = NOT_YET_EXPORTED & exported
    assert process in (frozenset(), NOT_YET_EXPORTED), f"only {sorted(process)} are exported"
    return used - exported - PROMETHEUS_OWN - NOT_YET_EXPORTED
