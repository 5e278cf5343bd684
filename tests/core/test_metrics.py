"""The instance's own counters: actions by name and outcome, deliveries, its
registry (the collectors that read live objects: tests/core/test_collectors.py)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from gateway.ami.message import Message
from gateway.core.collectors import LoopHistogram
from gateway.core.events import EventLog
from gateway.core.logincache import VerifiedLogins
from gateway.core.metrics import OTHER, Metrics, names, outcome_of
from gateway.core.replies import Door, Reply, error_message, response
from gateway.core.security import SecurityEvents
from gateway.core.sessionstore import SessionStore
from tests.support.docs import metrics_text
from tests.support.metricreads import Link, value


def test_outcome_from_the_first_message() -> None:
    assert outcome_of(Reply((response("Success", None),))) == "success"
    assert outcome_of(Reply((response("Goodbye", None),))) == "success"
    assert outcome_of(Reply((error_message("Permission denied", None),))) == "denied"
    assert outcome_of(Reply((error_message("Asterisk is not connected", "x"),))) == "not_connected"
    assert outcome_of(Reply((error_message("Timeout waiting for Asterisk", None),))) == "timeout"
    assert outcome_of(Reply((error_message("No such channel", None),))) == "error"
    assert outcome_of(Reply(())) == "error"
    assert outcome_of(None) == "error"


def test_unknown_action_names_share_one_label() -> None:
    known = {"ping": "Ping"}
    metrics = Metrics(action_name=lambda name: known.get(name.lower()))
    ok = Reply((response("Success", None),))
    metrics.action("PING", ok)
    metrics.action("ping", ok)
    for junk in ("x1", "x2", ""):
        metrics.action(junk, ok)
    metrics.action("Ping", ok, Door.AMI)
    assert value(metrics, "ajam_actions_total", action="Ping", outcome="success", door="http") == 2
    assert value(metrics, "ajam_actions_total", action=OTHER, outcome="success", door="http") == 3
    assert value(metrics, "ajam_actions_total", action="Ping", outcome="success", door="ami") == 1


def test_delivered_counts_a_batch_and_times_its_oldest() -> None:
    metrics = Metrics()
    log = EventLog(10)
    events = [log.append(Message.of(("Event", "E"))) for _ in range(3)]
    metrics.delivered([])
    assert value(metrics, "ajam_event_delivery_seconds_count") == 0
    metrics.delivered(events)
    assert value(metrics, "ajam_events_delivered_total") == 3
    assert value(metrics, "ajam_event_delivery_seconds_count") == 1
    assert 0 <= value(metrics, "ajam_event_delivery_seconds_sum") < 5
    assert events[0].received <= time.monotonic()
    metrics.skipped(2, 5)
    assert value(metrics, "ajam_events_dropped_total", reason="ring_overflow") == 2
    assert value(metrics, "ajam_events_dropped_total", reason="filtered") == 5


def test_each_instance_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.events_received += 1
    assert value(first, "ajam_events_received_total") == 1
    assert value(second, "ajam_events_received_total") == 0
    assert "ajam_events_received" in names(first.registry)


def test_the_metrics_page_lists_every_metric() -> None:
    metrics = Metrics()
    metrics.watch(SessionStore(), Link())
    metrics.watch_logins(SecurityEvents(EventLog(1)), VerifiedLogins())
    page = metrics_text()
    listed = names(metrics.registry)
    assert len(listed) == 16 + 6  # and prometheus-client's process_* (Linux)
    for name in listed:
        assert f"| `{name}" in page, name


def test_the_loop_histogram_exposes_what_prometheus_clients_own_would() -> None:
    buckets = (0.001, 0.01, 0.1, 1.0)
    ours = LoopHistogram("h_seconds", "Help", buckets)
    reference = CollectorRegistry()
    theirs = Histogram("h_seconds", "Help", buckets=buckets, registry=reference)
    for amount in (0.0, 0.001, 0.0011, 0.05, 0.1, 2.0, 99.0):  # bounds and beyond
        ours.observe(amount)
        theirs.observe(amount)
    registry = CollectorRegistry()
    registry.register(ours)
    lines = generate_latest(reference).decode().splitlines()
    assert generate_latest(registry).decode().splitlines() == [
        line for line in lines if "_created" not in line
    ]
