"""Security events for the gateway's own logins, as Asterisk would raise them.

Each goes two ways: into the shared event log (``Privilege: security,all``,
so that sessions reading ``security`` see it, as in Asterisk) and into the
``gateway.security`` logger as one line that fail2ban can match.  No secret
is ever part of either.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Final

from gateway.ami.message import Field, Message
from gateway.core.events import EventLog
from gateway.core.replies import Door, Peer
from gateway.core.sessions import Session
from gateway.logs import escaped

log = logging.getLogger("gateway.security")

SEVERITY: Final = {
    "SuccessfulAuth": "Informational",
    "InvalidPassword": "Error",
    "InvalidAccountID": "Error",
    "ChallengeResponseFailed": "Error",
    "FailedACL": "Error",
    "SessionLimit": "Error",
    "LoginRateLimited": "Error",
}
EVENT_VERSION: Final = {"SuccessfulAuth": "1"}
"""Asterisk's per-event version numbers (the failures say 2)."""


def event_tv(now: datetime | None = None) -> str:
    """Asterisk's EventTV: ``2026-11-27T09:08:00.917+0000``."""
    moment = now or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _address(host: str, port: int) -> str:
    family = "IPV6" if ":" in host else "IPV4"
    return f"{family}/TCP/{host}/{port}"


def security_message(name: str, session: Session | None, peer: Peer, username: str) -> Message:
    """``session`` None: the attempt had no session (a failed Digest answer), SessionID 0."""
    stamp = event_tv()
    fields: list[Field] = [
        ("Event", name),
        ("Privilege", "security,all"),
        ("EventTV", stamp),
        ("Severity", SEVERITY.get(name, "Error")),
        ("Service", "AMI"),
        ("EventVersion", EVENT_VERSION.get(name, "2")),
        ("AccountID", username),
        ("SessionID", f"0x{int(session.key) if session else 0:012x}"),
        ("LocalAddress", _address(peer.local_address, peer.local_port)),
        ("RemoteAddress", _address(peer.address, peer.port)),
    ]
    if name == "SuccessfulAuth":
        fields.append(("UsingPassword", "0"))
    fields.append(("SessionTV", stamp))
    return Message(tuple(fields))


class SecurityEvents:
    """Records one security event in the shared log and the log file."""

    def __init__(self, events: EventLog) -> None:
        self._events = events
        self.failed: Counter[tuple[Door, str]] = Counter()
        """Failures by door and event name, for ``/metrics``."""

    @property
    def failures(self) -> int:
        return self.failed.total()

    def __call__(self, name: str, session: Session | None, peer: Peer, username: str) -> None:
        outcome = "success" if name == "SuccessfulAuth" else "failure"
        if outcome == "failure":
            self.failed[peer.door, name] += 1
        # One greppable line: fail2ban's failregex keys on address= and outcome=.
        log.log(
            logging.INFO if outcome == "success" else logging.WARNING,
            "ajam login %s: event=%s address=%s user='%s'",
            outcome,
            name,
            peer.address,
            escaped(username),  # a name with " address=..." must not frame another host
        )
        self._events.append(security_message(name, session, peer, username))
