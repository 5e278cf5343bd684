from __future__ import annotations

import logging
import re

import pytest

from gateway.events import EventLog
from gateway.replies import Peer
from gateway.security import SecurityEvents, event_tv, security_message
from gateway.sessions import SessionStore

PEER = Peer("192.0.2.7", 40000, "127.0.0.1", 8088)


def test_event_tv_looks_like_asterisks() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", event_tv())


def test_successful_auth_has_asterisks_fields_in_order() -> None:
    session = SessionStore().create("192.0.2.7", 0.0, 0)
    message = security_message("SuccessfulAuth", session, PEER, "admin")
    assert [k for k, _ in message.fields] == [
        "Event", "Privilege", "EventTV", "Severity", "Service", "EventVersion", "AccountID",
        "SessionID", "LocalAddress", "RemoteAddress", "UsingPassword", "SessionTV",
    ]  # fmt: skip
    assert message.get("Privilege") == "security,all"
    assert message.get("RemoteAddress") == "IPV4/TCP/192.0.2.7/40000"
    assert message.get("LocalAddress") == "IPV4/TCP/127.0.0.1/8088"


def test_failure_goes_to_the_log_and_the_event_log_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = EventLog(10)
    record = SecurityEvents(events)
    session = SessionStore().create("x", 0.0, 0)
    with caplog.at_level(logging.INFO, logger="gateway.security"):
        record("InvalidPassword", session, Peer("2001:db8::1", 1), "bob")
    assert record.failures == 1
    stored = events.since(0)[1][0].message
    assert stored.get("Severity") == "Error"
    assert stored.get("EventVersion") == "2"
    assert stored.get("RemoteAddress") == "IPV6/TCP/2001:db8::1/1"
    line = caplog.records[0].getMessage()
    assert "address=2001:db8::1" in line
    assert "user='bob'" in line
    assert "failure" in line
