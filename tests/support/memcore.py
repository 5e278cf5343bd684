"""The gateway's core in memory: ``gateway.wiring.build_gateway``'s own wiring, with a
recording stand-in for the AMI link and nothing listening.

For tests of ``gateway.core`` (the login gate, the dispatcher) that need no
socket: the "AMI" answers each action ``Response: Success`` at once, and
``now`` is a number the test chooses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.access.accounts import Accounts
from gateway.ami.client import AmiClient
from gateway.ami.message import Field, Message
from gateway.config import parse_config
from gateway.core.dispatch import Dispatcher
from gateway.core.events import EventLog
from gateway.core.login import LoginGate
from gateway.core.phase import Lifecycle
from gateway.core.ratelimit import LoginGuard
from gateway.core.replies import Peer
from gateway.core.security import SecurityEvents
from gateway.core.sessions import Session
from gateway.core.sessionstore import SessionStore
from gateway.wiring import build_gateway

PEER = Peer("192.0.2.7", 40000, "127.0.0.1", 8088)
USERS = {
    "admin": {"secret": "admin-secret", "read": "all", "write": "all"},
    "reader": {"secret": "reader-secret", "read": "call"},
    "solo": {"secret": "solo-secret", "read": "all", "write": "all", "max_sessions": 1},
}
NOW = 1000.0


class RecordingAmi(AmiClient):
    """Never connects: it is up from the start, answers every action with
    ``Response: Success`` and its ActionID, and records what was sent, for
    whom and how."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[tuple[tuple[Field, ...], str | None, bool, float | None]] = []
        self.up = True

    @property
    def ready(self) -> bool:
        return self.up

    async def send(
        self,
        fields: Sequence[Field],
        *,
        owner: str | None = None,
        sync_originate: bool = False,
        timeout: float | None = None,
    ) -> tuple[Message, ...]:
        self.sent.append((tuple(fields), owner, sync_originate, timeout))
        action_id = next((v for k, v in fields if k.lower() == "actionid"), None)
        pairs: list[Field] = [("Response", "Success")]
        if action_id:
            pairs.append(("ActionID", action_id))
        return (Message(tuple(pairs)),)


class MemCore:
    """One gateway's core, wired as in production, at a fixed ``now``."""

    def __init__(self, **limits: Any) -> None:
        config = parse_config(
            {"ami": {"username": "gw", "secret": "gw"}, "users": USERS, "limits": limits}, {}
        )
        gateway = build_gateway(config, link=RecordingAmi)
        assert isinstance(gateway.ami, RecordingAmi)
        self.now = NOW
        self.ami: RecordingAmi = gateway.ami
        self.log: EventLog = gateway.log
        self.sessions: SessionStore = gateway.sessions
        self.accounts: Accounts = gateway.accounts
        self.security: SecurityEvents = gateway.security
        self.guard: LoginGuard = gateway.login_guard
        self.lifecycle: Lifecycle = gateway.lifecycle
        self.gate: LoginGate = gateway.gate
        self.dispatcher: Dispatcher = gateway.dispatcher

    def session(self) -> Session:
        """A fresh, unauthenticated session in the store, as a first request gets."""
        return self.sessions.create(PEER.address, self.now, self.log.last_seq)

    def events(self, name: str) -> list[Message]:
        """The messages of this name in the log, oldest first."""
        return [e.message for e in self.log.since(0)[1] if e.message.name == name]


def mem_core(
    *, fail_delay: float = 0.0, session_rate: float = 1e6, failures_per_user: int = 5
) -> MemCore:
    return MemCore(
        login_fail_delay=fail_delay,
        rate_per_session=session_rate,
        login_failures_per_user_address=failures_per_user,
    )


async def logged_in(core: MemCore, user: str = "admin", **extra: str) -> Session:
    """A session logged in through the dispatcher, as an ``Action: Login`` does it."""
    session = core.session()
    fields = [("Action", "Login"), ("Username", user), ("Secret", f"{user}-secret")]
    reply = await core.dispatcher.handle(session, [*fields, *extra.items()], PEER, core.now)
    assert reply.head[0].get("Message") == "Authentication accepted"
    assert reply.login_session == session.id
    return session
