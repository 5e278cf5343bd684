"""A session: who is logged in, what it may read, where it is in the log.

A session is a cursor into the shared ``EventLog`` plus a filter, whichever
door it came through: an HTTP session, or one AMI connection of the front
door (``gateway.amiserver``), which holds its waiter for as long as it is
open and reads events by the same cursor.  ``Session.wants`` and
``Session.pending`` are Asterisk's rules for which events reach it.  The
store that holds sessions by id, with their limits and expiry, is
``gateway.core.sessionstore``.  Nothing here does I/O.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable
from typing import Final, Protocol

from gateway.access.classes import ALL
from gateway.access.identity import EventPredicate, Identity, OriginateResponses
from gateway.core.cursors import LossReason
from gateway.core.events import EventLog, Placement, StoredEvent
from gateway.core.replies import Door
from gateway.core.views import CallView

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
    """One HTTP session.  It changes only through its own methods; those of its
    id, life, holders and waiter are the store's to call
    (``gateway.core.sessionstore``, which keeps its tables in step with them).
    Everything else only reads it."""

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

    # -- the store's: id, life, holders, waiter ------------------------------

    def rename(self, session_id: str) -> None:
        """A new id (``SessionStore.rekey`` at a login, ``remove``): the old one
        names nothing from now on."""
        self._id = session_id

    def extend(self, until: float) -> None:
        """Live at least until ``until`` (``SessionStore.touch``)."""
        self._expires = max(self._expires, until)

    def add_holder(self) -> None:
        """A push stream opened on it (``SessionStore.hold``)."""
        self._holders += 1

    def drop_holder(self) -> None:
        """A push stream on it closed (``SessionStore.release``)."""
        self._holders -= 1

    def set_waiter(self, waiter: Waiter | None) -> None:
        """A poll's waiter, or none (``SessionStore.set_waiter``, ``clear_waiter``)."""
        self._waiter = waiter

    # -- its own ----------------------------------------------------------------

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
