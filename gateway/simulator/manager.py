"""What an action handler of the simulated Asterisk sees: its manager session
(Asterisk's ``mansession``), the simulator that holds every session, and
manager.conf's users.

``connection.Connection`` is the one real ``Mansession``; the handlers in
``actions`` and ``callactions`` are written against this protocol, so that
they need not import the connection that calls them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from gateway.access.posixre import PosixRegex
from gateway.ami.message import Field, Message
from gateway.simulator.channels import Fields
from gateway.simulator.pbx import Pbx


@dataclass(frozen=True, slots=True)
class SimUser:
    """A manager.conf user; read and write are class lists as manager.conf spells them."""

    secret: str
    read: str = "all"
    write: str = "all"


class Hub(Protocol):
    """What a session needs from the simulator that owns it."""

    users: Mapping[str, SimUser]
    pbx: Pbx
    answer_pings: bool
    auth_fail_delay: float

    def record(self, action: Message) -> None: ...
    def broadcast(self, fields: Fields) -> None: ...
    def note_login(self) -> None: ...
    def uptime(self) -> int: ...


class Mansession(Protocol):
    """One manager session, as its actions read and change it."""

    hub: Hub
    username: str
    authenticated: bool
    readperm: int
    writeperm: int
    send_events: int
    filters: list[tuple[bool, PosixRegex]]
    challenge: str
    session_id: str
    session_tv: str
    local_address: str
    remote_address: str

    def log_in(self, username: str, user: SimUser) -> None: ...

    def security_event(self, name: str, severity: str, *fields: Field) -> Fields: ...
