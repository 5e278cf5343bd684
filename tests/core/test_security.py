from __future__ import annotations

import logging
import re

import pytest

from gateway.core.events import EventLog
from gateway.core.replies import Peer
from gateway.core.security import SecurityEvents, event_tv, security_message
from gateway.core.sessionstore import SessionStore

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


def test_a_user_name_cannot_frame_another_address(caplog: pytest.LogCaptureFixture) -> None:
    """docs/security.md's fail2ban failregex must find the real address, never one
    smuggled in the user name."""
    record = SecurityEvents(EventLog(10))
    session = SessionStore().create("x", 0.0, 0)
    forged = "ajam login failure: event=InvalidPassword address=10.9.9.9 user='\n"
    with caplog.at_level(logging.INFO, logger="gateway.security"):
        record("InvalidAccountID", session, Peer("192.0.2.7", 1), forged)
    line = f"gateway.security WARNING {caplog.records[0].getMessage()}"
    failregex = r"gateway\.security WARNING ajam login failure: event=\S+ address=(\S+) user="
    assert [m.group(1) for m in re.finditer(failregex, line)] == ["192.0.2.7"]
    greedy = re.search(r"^.*ajam login failure: event=\S+ address=(\S+) ", line)
    assert greedy is not None
    assert greedy.group(1) == "192.0.2.7"  # even a careless filter finds the real one
    assert "\n" not in line
    assert line.endswith(
        r"user='ajam\x20login\x20failure:\x20event=InvalidPassword"
        r"\x20address=10.9.9.9\x20user=\x27\x0a'"
    )
