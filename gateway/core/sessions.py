"""Sessions: who is logged in, what they may read, where they are.

A session is a cursor into the shared ``EventLog`` plus a filter, whichever
door it came through: an HTTP session, or one AMI connection of the front
door (``gateway.amiserver``), which holds its waiter for as long as it is
open and reads events by the same cursor.  Nothing here does I/O: the store
is driven with explicit ``now`` values (monotonic seconds) and the doors own
the timers and futures.
"""

from __future__ import annotations

import enum
import itertools
import secrets
from collections.abc import Callable, Iterator
from typing import Final, Protocol

from gateway.access.classes import ALL
from gateway.access.identity import EventPredicate, Identity, OriginateResponses
from gateway.core.anonymous import AnonymousIds
from gateway.core.cursors import LossReason
from gateway.core.events import EventLog, Placement, StoredEvent
from gateway.core.pending import DEFAULT_PER_ADDRESS, PendingSessions
from gateway.core.replies import Door
from gateway.core.views import CallView
from gateway.errors import TooManySessions

SESSION_ID_BITS: Final = 128
"""Unguessable ids: Asterisk's 32 bits can be brute-forced over HTTP."""


class Waiter(Protocol):
    """The pending waitevent of a session, owned by the HTTP layer."""

    def wake(self) -> None: ...

    def kick(self) -> None: ...


def new_id(node_id: str) -> str:
    """``<node_id><32 hex>``: the one shape of session ids and digest nonces,
    which nginx routes by the same rule (design.md, Contracts)."""
    return node_id + secrets.token_hex(SESSION_ID_BITS // 8)


class PollMode(enum.Enum):
    """How a session's waitevent answers (``Cursor:`` switches it)."""

    PLAIN = "plain"
    """Asterisk's own: the events since the last poll; an event the ring lost is simply gone."""
    CURSOR = "cursor"
    """The gateway's resumable cursor: a gap is reported (``GatewayEventsLost``) and
    every answer says where it stopped (``Cursor:``)."""


class Session:
    """One HTTP session.  It changes only through its own methods (and the
    store's, for its id, life and waiter); everything else only reads it."""

    __slots__ = (
        "_address",
        "_challenge",
        "_cursor",
        "_door",
        "_event_filter",
        "_expires",
        "_holders",
        "_id",
        "_identity",
        "_key",
        "_missed",
        "_poll_mode",
        "_send_events",
        "_view",
        "_waiter",
    )

    def __init__(
        self,
        *,
        id: str,
        key: str,
        address: str,
        expires: float,
        cursor: int = 0,
        door: Door = Door.HTTP,
    ) -> None:
        self._id = id
        self._door = door
        self._key = key
        self._address = address
        self._expires = expires
        self._identity: Identity | None = None
        self._challenge: str | None = None
        self._send_events = 0
        self._event_filter: EventPredicate | None = None
        self._cursor = cursor
        self._poll_mode = PollMode.PLAIN
        self._missed: LossReason | None = None
        self._view: CallView | None = None
        self._waiter: Waiter | None = None
        self._holders = 0

    def __repr__(self) -> str:
        user = self._identity.username if self._identity else None
        return f"Session(id={self._id!r}, key={self._key!r}, user={user!r})"

    @property
    def id(self) -> str:
        return self._id

    @property
    def key(self) -> str:
        """Stable internal key: survives the id change at login; owns async results."""
        return self._key

    @property
    def address(self) -> str:
        return self._address

    @property
    def door(self) -> Door:
        """HTTP (cookie, ``mansession_id``, Basic, Digest) or an AMI connection."""
        return self._door

    @property
    def expires(self) -> float:
        return self._expires

    @property
    def identity(self) -> Identity | None:
        return self._identity

    @property
    def challenge(self) -> str | None:
        return self._challenge

    @property
    def send_events(self) -> int:
        """Asterisk's send_events: HTTP sessions start with none (waitevent turns
        all on), an AMI connection with all."""
        return self._send_events

    @property
    def event_filter(self) -> EventPredicate | None:
        """The session's own ``Action: Filter`` rules.  The user's eventfilters
        (``identity.event_filter``) are the operator's ceiling and stay apart: an
        event must pass both, so a session's include can narrow, never widen
        (a deliberate departure from Asterisk, which joins the two lists)."""
        return self._event_filter

    @property
    def view(self) -> CallView | None:
        """The extensions whose calls alone the session reads (a poll's ``Extension``)."""
        return self._view

    @property
    def cursor(self) -> int:
        """The seq of the last event this session has looked at."""
        return self._cursor

    @property
    def missed(self) -> LossReason | None:
        """A loss the session has not been told of yet: a foreign cursor
        (``LossReason.RESTART``) was placed, and no answer has said so."""
        return self._missed

    @property
    def poll_mode(self) -> PollMode:
        return self._poll_mode

    @property
    def waiter(self) -> Waiter | None:
        return self._waiter

    @property
    def authenticated(self) -> bool:
        return self._identity is not None

    @property
    def held(self) -> bool:
        """A poll or a push stream is open on it: it does not expire meanwhile."""
        return self._waiter is not None or self._holders > 0

    def log_in(self, identity: Identity) -> None:
        """Take the user's rights (its eventfilters are a ceiling, kept apart
        from the session's own filter), and a pending MD5 challenge is spent."""
        self._identity = identity
        self._challenge = None

    def reidentify(self, identity: Identity) -> None:
        """A reload changed the user's rights: the new ones, with the new ceiling
        of eventfilters; the session's own ``Action: Filter`` rules are kept."""
        self._identity = identity

    def ensure_challenge(self, make: Callable[[], str]) -> str:
        """The MD5 challenge to answer; ``make`` one unless one is pending."""
        if not self._challenge:
            self._challenge = make()
        return self._challenge

    def set_event_mask(self, mask: int) -> None:
        """``Action: Events`` (or a Login's ``Events:``): the classes to send."""
        self._send_events = mask

    def set_filter(self, event_filter: EventPredicate | None) -> None:
        """``Action: Filter`` grew the session's own filter."""
        self._event_filter = event_filter

    def set_view(self, view: CallView | None) -> None:
        """Narrow the events to the calls of some extensions (None: all)."""
        self._view = view

    def move_cursor(self, seq: int) -> None:
        """Continue after event ``seq`` (a login, a poll's end, a ``Cursor:``)."""
        self._cursor = seq

    def place_cursor(self, placement: Placement) -> None:
        """Continue where a client's cursor puts the session (``EventLog.place``);
        a foreign one is a loss to report (``missed``) until ``reported``."""
        self._cursor = placement.cursor
        if placement.foreign:
            self._missed = LossReason.RESTART

    def reported(self) -> None:
        """An answer told the session of its loss."""
        self._missed = None

    def use_cursor(self) -> None:
        """A poll named a ``Cursor:``: answers in ``PollMode.CURSOR`` from now on."""
        self._poll_mode = PollMode.CURSOR

    def wants(self, event: StoredEvent) -> bool:
        """Asterisk's rule: all the event's classes readable and in the mask,
        then the user's filters and the session's own, each on its own."""
        identity = self._identity
        if identity is None:
            return False
        classes = event.classes
        if identity.read & classes != classes or self._send_events & classes != classes:
            return False
        if not self._owned_and_filtered(event):
            return False
        view = self._view
        if view is None:
            return True
        assert event.log is not None  # every event is appended by a log
        return view.admits(event, event.log.calls)

    def _owned_and_filtered(self, event: StoredEvent) -> bool:
        """The rest of ``wants`` once the classes passed: another session's
        async result, then the filters."""
        identity = self._identity
        owner = event.owner
        if (
            owner is not None
            and owner != self._key
            and (
                event.private
                or identity is None
                or identity.originate_response is OriginateResponses.OWNER
            )
        ):
            return False
        ceiling = None if identity is None else identity.event_filter
        if ceiling is not None and not ceiling.matches(event.text, event.message):
            return False
        own = self._event_filter
        return own is None or own.matches(event.text, event.message)

    def _readable(self, blocked: int) -> Callable[[StoredEvent], bool]:
        """``wants`` without the view, for a view's catch-up (``blocked``: the
        classes the session cannot read or did not ask for)."""
        return lambda e: not e.classes & blocked and self._owned_and_filtered(e)

    def enable_events_for_wait(self) -> None:
        if self._send_events == 0:
            self._send_events = ALL

    def pending(
        self,
        log: EventLog,
        limit: int | None = None,
        after: int | None = None,
        max_bytes: int | None = None,
    ) -> tuple[int, list[StoredEvent], int]:
        """What this session should get now: (lost, events, new cursor).

        The new cursor passes every event looked at, delivered or not, as
        Asterisk's last_ev does.  ``after`` starts the scan elsewhere than
        the session's cursor: a poll resumes where its own scan stopped.
        ``max_bytes`` caps the events' wire bytes (the first event always
        goes): when it cuts, the cursor is the last event kept, so the rest
        comes with the next poll.
        """
        start = self._cursor if after is None else after
        if start >= log.last_seq:  # the usual case when a poll starts: nothing new
            return 0, [], start
        lost, events = log.since(start, limit)
        cursor = events[-1].seq if events else max(start, log.floor)
        identity = self._identity
        if identity is None:
            return lost, [], cursor
        # The class bitmask once for the whole slice (``wants`` without its
        # per-event class test), then the owner and the filters.
        blocked = ~(identity.read & self._send_events)
        wanted = [e for e in events if not e.classes & blocked and self._owned_and_filtered(e)]
        if self._view is not None:
            return lost, *self._view.select(log, wanted, cursor, max_bytes, self._readable(blocked))
        if max_bytes is not None and wanted and _wire_span(wanted) > max_bytes:
            cut = _byte_cut(wanted, max_bytes)
            if cut < len(wanted):
                del wanted[cut:]
                cursor = wanted[-1].seq
        return lost, wanted, cursor

    def has_pending(self, events: list[StoredEvent]) -> bool:
        """Whether any of these new events is one this session would get."""
        cursor = self._cursor
        return any(e.seq > cursor and self.wants(e) for e in events)


def _wire_span(events: list[StoredEvent]) -> int:
    """Wire bytes from the first to the last of ``events``, the events between
    them included: an upper bound of their own, in O(1)."""
    first = events[0]
    return events[-1].end - first.end + first.wire_size


def _byte_cut(events: list[StoredEvent], max_bytes: int) -> int:
    """How many of ``events`` fit in ``max_bytes`` of wire bytes (at least one)."""
    total = 0
    for index, event in enumerate(events):
        total += event.wire_size
        if total > max_bytes:
            return max(index, 1)
    return len(events)


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
        session._expires = max(session._expires, now + life)

    def rekey(self, session: Session, now: float) -> None:
        """Give a session a fresh id at its login (a fixed id is worthless),
        stored.  A login is never refused for room that sessions which never
        logged in took: the oldest of them goes first; ``TooManySessions``
        only when logged-in sessions fill the table."""
        if self._by_id.pop(session.id, None) is None:
            self._make_room(now)
        self._pending.forget(session)
        session._id = new_id(self.node_id)
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
            session._id = new_id(self.node_id)
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
        session._holders += 1

    def release(self, session: Session, now: float) -> None:
        """A stream on the session closed: its life runs again from ``now``."""
        session._holders -= 1
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
        session._waiter = waiter
        self._waiting[session.key] = session
        return old

    def clear_waiter(self, session: Session, waiter: Waiter | None = None) -> None:
        """Forget the session's waiter (only ``waiter``, when given)."""
        if waiter is not None and session.waiter is not waiter:
            return
        session._waiter = None
        self._waiting.pop(session.key, None)

    def waiting(self) -> list[Session]:
        return list(self._waiting.values())

    @property
    def waiting_count(self) -> int:
        """Held waitevent polls (an AMI connection's standing waiter is not one)."""
        return sum(1 for s in self._waiting.values() if s.door is Door.HTTP)
