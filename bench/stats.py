"""Percentiles from merged latency histograms and plain samples."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from bench.pollers import BUCKET_S


def merge(hists: Iterable[Mapping[str, int]]) -> Counter[int]:
    total: Counter[int] = Counter()
    for hist in hists:
        for key, count in hist.items():
            total[int(key)] += count
    return total


def hist_percentile_ms(hist: Counter[int], fraction: float) -> float | None:
    """The latency (ms, bucket upper edge) at or below which ``fraction`` fall."""
    total = sum(hist.values())
    if not total:
        return None
    rank = fraction * total
    seen = 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        if seen >= rank:
            return round((bucket + 1) * BUCKET_S * 1000, 3)
    return None


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, int(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]
