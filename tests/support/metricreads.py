"""What the tests of ``gateway.core.metrics`` and ``gateway.core.collectors``
read through: a stand-in for the AMI link's counters, and one sample of an
instance's registry."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.metrics import Metrics


@dataclass
class Link:
    """The AMI client's counters, as ``watch`` reads them."""

    ready: bool = True
    reconnects: int = 0
    login_failures: int = 0


def value(metrics: Metrics, name: str, **labels: str) -> float:
    """The sample ``name`` with these labels (it must exist)."""
    found = metrics.registry.get_sample_value(name, labels)
    assert found is not None, name
    return found
