"""The gateway's registry carries prometheus-client's process_* series
(descriptors against their limit, memory, CPU) and no NAME_created series,
without flipping the library's process-wide switch for anyone else."""

from __future__ import annotations

import os
import resource
import sys

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import choose_encoder

from gateway.core.metrics import Metrics, names
from gateway.core.replies import Reply, response

PROCESS = ("process_open_fds", "process_max_fds", "process_resident_memory_bytes")


def used(metrics: Metrics) -> Metrics:
    metrics.action("Ping", Reply((response("Success", None),)))
    metrics.http_status(200)
    metrics.ami_roundtrip.observe(0.01)
    return metrics


def test_no_created_series_in_either_format() -> None:
    metrics = used(Metrics())
    openmetrics, _ = choose_encoder("application/openmetrics-text; version=1.0.0")
    for text in (generate_latest(metrics.registry), openmetrics(metrics.registry)):
        assert b"_created" not in text
        assert b"ajam_actions_total{" in text
        assert b"ajam_ami_roundtrip_seconds_bucket{" in text
    assert openmetrics(metrics.registry).endswith(b"# EOF\n")  # the format that had them


def test_the_library_switch_is_left_alone() -> None:
    used(Metrics())
    other = CollectorRegistry()
    Counter("other_things", "another registry in this process", registry=other).inc()
    assert b"other_things_created" in generate_latest(other)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="read from /proc")
def test_process_series() -> None:
    metrics = Metrics()
    exported = set(names(metrics.registry))
    assert {"process_open_fds", "process_max_fds", "process_cpu_seconds"} <= exported
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert metrics.registry.get_sample_value("process_max_fds") == soft
    with open(os.devnull) as extra:
        assert extra.fileno() >= 0
        opened = metrics.registry.get_sample_value("process_open_fds")
    assert opened is not None
    assert 3 < opened < soft
    for name in PROCESS:
        value = metrics.registry.get_sample_value(name)
        assert value is not None
        assert value > 0, name
    assert b"process_cpu_seconds_total " in generate_latest(metrics.registry)


def test_other_packages_instruments_go_without_created_too() -> None:
    metrics = Metrics()
    Histogram("elsewhere_seconds", "a package's own histogram", registry=metrics.instruments)
    text = generate_latest(metrics.registry)
    assert b"elsewhere_seconds_count 0.0" in text
    assert b"_created" not in text
