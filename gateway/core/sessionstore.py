"""The session store: sessions by id, with their limits and expiry.

Which sessions exist, and for how long: an HTTP session is stored at its
login (``rekey``) or its Challenge (``keep``), an AMI connection's when it
connects (``create``); ``max_sessions`` in all, and a share of sessions not
logged in per client address (``gateway.core.pending``).  It holds the
waiters of the polls and counts the push streams that hold a session, and
tells its listeners of every session that ends.  Nothing here does I/O: the
store is driven with explicit ``now`` values (monotonic seconds) and the
doors own the timers and futures.  The session itself is
``gateway.core.sessions``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

from gateway.access.classes import ALL
from gateway.core.anonymous import AnonymousIds
from gateway.core.pending import DEFAULT_PER_ADDRESS, PendingSessions
from gateway.core.replies import Door
from gateway.core.sessions import Session, Waiter, new_id
from gateway.errors import TooManySessions


class SessionStore:
    """Sessions by id, with limits and expiry."""

    def __init__(
        self,
        *,
        node_id: str = "",
        httptimeout: float = 60.0,
        unauth_timeout: float = 10.0,
        max_sessions: int = 20_000,
        max_unauth_per_address: int = DEFAULT_PER_ADDRESS,
    ) -> None:
        self.node_id = node_id
        self.httptimeout = httptimeout
        self.unauth_timeout = unauth_timeout
        self.max_sessions = max_sessions
        self._by_id: dict[str, Session] = {}
        self._waiting: dict[str, Session] = {}
        self._pending: PendingSessions[Session] = PendingSessions(max_unauth_per_address)
        self._anonymous = AnonymousIds(node_id, unauth_timeout)
        self._keys = itertools.count(1)
        self._on_remove: list[Callable[[Session], None]] = []

    def configure(self, max_sessions: int, max_unauth_per_address: int) -> None:
        """A reload's limits, for the sessions stored from now on."""
        self.max_sessions = max_sessions
        self._pending.per_address = max_unauth_per_address

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._by_id.values()))

    def fresh(
        self,
        address: str,
        now: float,
        cursor: int,
        named: str | None = None,
        door: Door = Door.HTTP,
    ) -> Session:
        """A new session that is not stored and costs nothing: an anonymous
        request's.  Its id goes out in Set-Cookie as Asterisk's would: the
        ``named`` one when this store minted it for an anonymous session less
        than ``unauth_timeout`` ago (``gateway.core.anonymous``), else a new
        one.  It is stored when it logs in (``rekey``) or takes a challenge
        (``keep``).  An AMI connection's session starts with every event on,
        as Asterisk's mask starts at -1 on a TCP session."""
        anonymous = self._anonymous
        session = Session(
            id=named if named and anonymous.valid(named, now) else anonymous.mint(now),
            key=str(next(self._keys)),
            address=address,
            expires=now + self.unauth_timeout,
            cursor=cursor,
            door=door,
        )
        if door is Door.AMI:
            session.set_event_mask(ALL)
        return session

    def create(self, address: str, now: float, cursor: int, door: Door = Door.HTTP) -> Session:
        """A fresh session, stored before its login (``keep``): an AMI
        connection's, counted in ``max_sessions`` and in its address's share
        of sessions not logged in."""
        session = self.fresh(address, now, cursor, door=door)
        self.keep(session, now)
        return session

    def keep(self, session: Session, now: float) -> None:
        """Store a session that has not logged in (a Challenge's): within its
        address's share and the table's room, else ``TooManySessions``."""
        if session.id in self._by_id:
            return
        self._pending.admit(session)
        if len(self._by_id) >= self.max_sessions:
            self.reap(now)
            if len(self._by_id) >= self.max_sessions:
                self._pending.forget(session)
                raise TooManySessions
        self._by_id[session.id] = session

    def detached(self, address: str, now: float, cursor: int) -> Session:
        """A session for one request only (HTTP Basic without a session): it
        is never stored, so no id can name it and nothing outlives the answer."""
        return Session(
            id="",
            key=str(next(self._keys)),
            address=address,
            expires=now,
            cursor=cursor,
        )

    def get(self, session_id: str, now: float) -> Session | None:
        """The HTTP session with this id (a cookie never names an AMI connection's)."""
        session = self._by_id.get(session_id)
        if session is None or session.door is not Door.HTTP:
            return None
        if session.expires <= now and not session.held:
            self.remove(session)
            return None
        return session

    def touch(self, session: Session, now: float) -> None:
        life = self.httptimeout if session.authenticated else self.unauth_timeout
        session.extend(now + life)

    def rekey(self, session: Session, now: float) -> None:
        """Give a session a fresh id at its login (a fixed id is worthless),
        stored.  A login is never refused for room that sessions which never
        logged in took: the oldest of them goes first; ``TooManySessions``
        only when logged-in sessions fill the table."""
        if self._by_id.pop(session.id, None) is None:
            self._make_room(now)
        self._pending.forget(session)
        session.rename(new_id(self.node_id))
        self._by_id[session.id] = session

    def _make_room(self, now: float) -> None:
        if len(self._by_id) < self.max_sessions:
            return
        self.reap(now)
        while len(self._by_id) >= self.max_sessions:
            oldest = self._pending.oldest()
            if oldest is None:
                raise TooManySessions
            if oldest.authenticated:  # logged in without a new id: no longer pending
                self._pending.forget(oldest)
            else:
                self.remove(oldest)

    def remove(self, session: Session) -> None:
        """End a session (its id names nothing from now on; Logoff, expiry, a
        drain, a reload that removed its user): its held poll is kicked and
        the removal listeners told."""
        self._by_id.pop(session.id, None)
        self._pending.forget(session)
        if session.id and not session.authenticated:
            # Its anonymous id would come back from ``fresh``: Asterisk has
            # destroyed the session (a failed login), the next request gets a
            # new id.  So its answer names a random id nothing will accept.
            session.rename(new_id(self.node_id))
        waiter = session.waiter
        if waiter is not None:
            self.clear_waiter(session)
            waiter.kick()
        for listener in self._on_remove:
            listener(session)

    def on_remove(self, listener: Callable[[Session], None]) -> None:
        """Be told of every session that ends (the push streams end with theirs)."""
        self._on_remove.append(listener)

    def hold(self, session: Session) -> None:
        """A push stream is open on the session: it does not expire until released."""
        session.add_holder()

    def release(self, session: Session, now: float) -> None:
        """A stream on the session closed: its life runs again from ``now``."""
        session.drop_holder()
        self.touch(session, now)

    def count_user(self, username: str) -> int:
        return sum(
            1
            for s in self._by_id.values()
            if s.identity is not None and s.identity.username == username
        )

    def count(self, door: Door = Door.HTTP) -> int:
        """Sessions of one door, logged in or not (read at scrape time)."""
        return sum(1 for s in self._by_id.values() if s.door is door)

    def authenticated_count(self, door: Door = Door.HTTP) -> int:
        return sum(1 for s in self._by_id.values() if s.identity is not None and s.door is door)

    def reap(self, now: float) -> list[Session]:
        """Drop expired sessions that hold no poll or stream; returns them."""
        dead = [s for s in self._by_id.values() if s.expires <= now and not s.held]
        for session in dead:
            self.remove(session)
        return dead

    def set_waiter(self, session: Session, waiter: Waiter) -> Waiter | None:
        """Install a poll's waiter; returns the one it replaces (to be kicked)."""
        old = session.waiter
        session.set_waiter(waiter)
        self._waiting[session.key] = session
        return old

    def clear_waiter(self, session: Session, waiter: Waiter | None = None) -> None:
        """Forget the session's waiter (only ``waiter``, when given)."""
        if waiter is not None and session.waiter is not waiter:
            return
        session.set_waiter(None)
        self._waiting.pop(session.key, None)

    def waiting(self) -> list[Session]:
        return list(self._waiting.values())

    @property
    def waiting_count(self) -> int:
        """Held waitevent polls (an AMI connection's standing waiter is not one)."""
        return sum(1 for s in self._waiting.values() if s.door is Door.HTTP)
