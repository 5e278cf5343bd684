"""Stored sessions that have not logged in: what a Challenge costs, capped.

Only a Challenge stores a session before its login: the challenge must be
spent once, by the Login that answers it.  Every other anonymous request
gets a fresh id that names nothing stored (issue 11, item 7), so a flood of
them costs no room.  The pending ones are counted per client address
(``[limits] max_unauth_sessions_per_address``) and kept oldest first: a
login, which room taken by anonymous clients must never refuse, evicts the
oldest of them (``gateway.core.sessionstore.SessionStore``).  Sans-I/O, no
clock: the store decides when.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from typing import Final, Generic, Protocol, TypeVar

from gateway.errors import TooManySessions

DEFAULT_PER_ADDRESS: Final = 100
"""Challenges waiting for their Login from one address: a pending one lives
``unauth_timeout`` (10 s), so this is ten MD5 logins a second from behind
one NAT, and a hundred times what one client needs."""


class Pending(Protocol):
    """What is counted of a session (``gateway.core.sessions.Session``)."""

    @property
    def key(self) -> str: ...

    @property
    def address(self) -> str: ...


P = TypeVar("P", bound=Pending)


class PendingSessions(Generic[P]):
    """The stored sessions that have not logged in, oldest first."""

    def __init__(self, per_address: int = DEFAULT_PER_ADDRESS) -> None:
        if per_address < 1:
            raise ValueError("per_address must be positive")
        self.per_address = per_address
        self._sessions: OrderedDict[str, P] = OrderedDict()
        self._by_address: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._sessions)

    def admit(self, session: P) -> None:
        """Count ``session``; ``TooManySessions`` when its address has its share."""
        if session.key in self._sessions:
            return
        if self._by_address[session.address] >= self.per_address:
            raise TooManySessions
        self._sessions[session.key] = session
        self._by_address[session.address] += 1

    def forget(self, session: P) -> None:
        """It logged in, or it is gone."""
        if self._sessions.pop(session.key, None) is None:
            return
        left = self._by_address[session.address] - 1
        if left > 0:
            self._by_address[session.address] = left
        else:
            del self._by_address[session.address]

    def oldest(self) -> P | None:
        return next(iter(self._sessions.values()), None)
