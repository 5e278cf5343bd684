"""The collectors ``/metrics`` reads at scrape time (gateway/core/collectors.py)."""

from __future__ import annotations

from gateway.access.classes import ALL
from gateway.access.identity import Identity
from gateway.core.metrics import Metrics
from gateway.core.replies import Door
from gateway.core.sessionstore import SessionStore
from tests.support.metricreads import Link, value


def test_levels_are_read_at_scrape_time() -> None:
    metrics = Metrics()
    sessions, link = SessionStore(), Link()
    metrics.watch(sessions, link)
    assert value(metrics, "ajam_sessions", state="authenticated") == 0
    session = sessions.create("a", 0.0, 0)
    sessions.create("b", 0.0, 0)
    session.log_in(Identity("admin", ALL, ALL))
    connected = [sessions.create("c", 0.0, 0, Door.AMI) for _ in range(3)]
    connected[0].log_in(Identity("admin", ALL, ALL))
    link.ready, link.reconnects, link.login_failures = False, 3, 2
    assert value(metrics, "ajam_sessions", state="authenticated") == 1
    assert value(metrics, "ajam_sessions", state="unauthenticated") == 1
    assert value(metrics, "ajam_ami_clients", state="authenticated") == 1
    assert value(metrics, "ajam_ami_clients", state="unauthenticated") == 2
    assert value(metrics, "ajam_pending_polls") == 0
    assert value(metrics, "ajam_ami_up") == 0
    assert value(metrics, "ajam_ami_reconnects_total") == 3
    assert value(metrics, "ajam_ami_login_failures_total") == 2
