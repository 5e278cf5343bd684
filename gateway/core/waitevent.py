"""waitevent: long polls that wake at once, batched per loop iteration.

A poll answers as soon as an event this session would receive exists: no
polling loop, and unlike Asterisk, an event the session's filters hide wakes
nobody.  A newer poll on the same session ends the older one with a
well-formed, empty reply (Asterisk sends an empty body).

An answer carries at most ``reply_bytes`` of events (their AMI wire bytes;
the first event always goes), less when the global send budget
(``gateway.core.sendbudget``) is short; the rest waits for the next poll in
cursor order, and the answer's ``Cursor`` is then the last event delivered.
With no room at all in the budget, a poll waits for room as it waits for
events, and answers empty at its timeout: nothing is lost.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Final, Protocol

from gateway.access.astvalues import header_value
from gateway.ami.message import Field, Message, header
from gateway.core.calls import parse_extensions
from gateway.core.cursors import LossReason, lost_notice, parse_cursor
from gateway.core.eventpath import EventBatches
from gateway.core.events import EventLog, StoredEvent
from gateway.core.metrics import Metrics
from gateway.core.replies import Reply, response
from gateway.core.sendbudget import DEFAULT_REPLY_BYTES, SendBudget
from gateway.core.sessions import PollMode, Session
from gateway.core.sessionstore import SessionStore
from gateway.core.views import CallView
from gateway.errors import AmiLevelError


class PollContext(Protocol):
    """What a poll needs: the log it reads, the sessions it waits in, its
    limits, the send budget and the metrics it counts into (``Polls``)."""

    @property
    def log(self) -> EventLog: ...
    @property
    def sessions(self) -> SessionStore: ...
    @property
    def waitevent_max(self) -> float: ...
    @property
    def waitevent_batch(self) -> int: ...
    @property
    def reply_bytes(self) -> int: ...
    @property
    def send_budget(self) -> SendBudget: ...
    @property
    def metrics(self) -> Metrics: ...


@dataclass(slots=True)
class Polls:
    """The waitevent of every session: one per gateway, handed to the dispatcher."""

    log: EventLog
    sessions: SessionStore
    metrics: Metrics
    waitevent_max: float = 50.0
    """The longest a poll waits (``[limits] waitevent_max``, or httptimeout - 10)."""
    waitevent_batch: int = 10_000
    """Events scanned per slice: a poll never waits while newer events are unread."""
    reply_bytes: int = DEFAULT_REPLY_BYTES
    """Wire bytes of events in one answer (``[events] reply_bytes``)."""
    send_budget: SendBudget = field(default_factory=SendBudget)

    def configure(self, waitevent_max: float) -> None:
        """A reload's waitevent cap."""
        self.waitevent_max = waitevent_max


CURSOR: Final = PollMode.CURSOR
WAIT_DONE: Final = "Waiting for Event completed."


class PollWaiter:
    """One pending waitevent: a future the notifier (or the send budget, or
    its timer) resolves, armed again for each wait."""

    __slots__ = ("expired", "future", "kicked")

    def __init__(self) -> None:
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.kicked = False
        self.expired = False

    def wake(self) -> None:
        if not self.future.done():
            self.future.set_result(None)

    def kick(self) -> None:
        self.kicked = True
        self.wake()

    def expire(self) -> None:
        self.expired = True
        self.wake()

    async def sleep(self) -> None:
        """Until the next wake; then armed again."""
        await self.future
        self.future = asyncio.get_running_loop().create_future()


class Notifier:
    """Turns the log's new events into wake-ups of the held polls, once per
    loop iteration (a consumer of ``EventBatches``).

    A burst of events read from one AMI chunk costs one pass over the
    waiting sessions, not one per event.
    """

    def __init__(self, batches: EventBatches, sessions: SessionStore) -> None:
        self._sessions = sessions
        self._batches = batches
        batches.subscribe(self.flush)

    def close(self) -> None:
        self._batches.unsubscribe(self.flush)

    def flush(self, batch: list[StoredEvent]) -> None:
        for session in self._sessions.waiting():
            waiter = session.waiter
            if waiter is not None and session.has_pending(batch):
                waiter.wake()


def parse_timeout(value: str | None, cap: float) -> float:
    """Asterisk's rule: absent, bad or negative means the cap; never above it.

    Fractions are allowed (Asterisk counts whole seconds only).
    """
    seconds = -1.0
    if value is not None:
        try:
            seconds = float(value)
        except ValueError:
            try:
                leading = parse_cursor(value)  # the same leading integer
            except AmiLevelError:
                leading = None
            seconds = -1.0 if leading is None else float(leading)
    if seconds != seconds or seconds < 0 or seconds > cap:  # NaN too
        return cap
    return seconds


def _set_cursor(session: Session, value: str, log: EventLog) -> None:
    session.use_cursor()
    cursor = parse_cursor(value)
    if cursor is not None:
        session.place_cursor(log.place(cursor))


def view_of(value: str | None) -> CallView | None:
    """A poll's ``Extension: 101,102``: the calls of those extensions only
    (``gateway.core.calls``); absent or empty, every event."""
    if value is None or not value.strip():
        return None
    return CallView(parse_extensions(value))


async def wait_for_events(polls: PollContext, session: Session, fields: list[Field]) -> Reply:
    log, sessions = polls.log, polls.sessions
    timeout = parse_timeout(header_value(fields, "Timeout") or None, polls.waitevent_max)
    cursor = header(fields, "Cursor")
    if cursor is not None:
        _set_cursor(session, cursor, log)
    session.set_view(view_of(header(fields, "Extension")))
    session.enable_events_for_wait()
    waiter = PollWaiter()
    older = sessions.set_waiter(session, waiter)
    if older is not None:
        older.kick()
    try:
        lost, events, new_cursor = await _collect(polls, session, waiter, timeout)
        if waiter.kicked:  # the newer poll answers the events, and any loss
            return _reply(session, header(fields, "ActionID"), 0, [], kicked=True)
        # Every event between the cursors was delivered, lost from the ring or
        # filtered out (a view's catch-up may also deliver events from before them).
        before = session.cursor
        delivered = sum(1 for e in events if e.seq > before)
        polls.metrics.skipped(lost, log.count(before, new_cursor) - lost - delivered)
        session.move_cursor(new_cursor)
        return _reply(session, header(fields, "ActionID"), lost, events)
    finally:
        polls.send_budget.forget(waiter)
        sessions.clear_waiter(session, waiter)
        sessions.touch(session, time.monotonic())


async def _collect(
    ctx: PollContext, session: Session, waiter: PollWaiter, timeout: float
) -> tuple[int, list[StoredEvent], int]:
    """(lost, events, new cursor): scan, and while there is nothing to answer,
    wait for an event or for room in the send budget, until the timeout."""
    log, budget = ctx.log, ctx.send_budget
    lost, cursor = 0, session.cursor
    events: list[StoredEvent] = []
    timer: asyncio.TimerHandle | None = None
    try:
        while True:
            if cursor < log.last_seq:
                room = budget.allowance(ctx.reply_bytes)
                if not room:
                    budget.wait(waiter)
                else:
                    # Resume after what this poll already looked at: rescanning
                    # the backlog made one event answering N polls cost
                    # O(N x backlog) (the sessions benchmark in bench/README.md).
                    more, events, cursor = _scan(session, log, ctx.waitevent_batch, cursor, room)
                    lost += more
                    if events or (lost and session.poll_mode is CURSOR):
                        return lost, events, cursor
            if timeout <= 0 or waiter.expired or waiter.kicked or session.missed is not None:
                return lost, events, cursor
            if timer is None:
                # A timer that wakes the waiter, not asyncio.timeout(): its
                # bookkeeping was ~5% of a poll's CPU (fanout profile in bench/).
                timer = asyncio.get_running_loop().call_later(timeout, waiter.expire)
            await waiter.sleep()
    finally:
        if timer is not None:
            timer.cancel()


def _scan(
    session: Session, log: EventLog, batch: int, after: int, max_bytes: int
) -> tuple[int, list[StoredEvent], int]:
    """Like ``Session.pending``, but a batch-sized slice of events the session
    does not want never makes it wait while newer events are still unread."""
    lost, events, cursor = session.pending(log, batch, after, max_bytes)
    while not events and cursor < log.last_seq and not (lost and session.poll_mode is CURSOR):
        more, events, cursor = session.pending(log, batch, cursor, max_bytes)
        lost += more
    return lost, events, cursor


def stream_reply(session: Session, fields: list[Field]) -> Reply:
    """WaitEvent on an AMI connection: its events stream to it anyway, so the
    answer comes at once and empty (Asterisk would wait for one; deviation
    D17 of the AMI door)."""
    return _reply(session, header(fields, "ActionID"), 0, [])


def _prerendered(*pairs: Field) -> Message:
    """A constant message with its wire bytes made once (rawman repeats
    ``raw``): nearly every poll answer starts and ends with these two."""
    message = Message.of(*pairs)
    return Message(message.fields, message.to_wire()[:-2])


_COMPLETED: Final = _prerendered(("Response", "Success"), ("Message", WAIT_DONE))
_COMPLETE_EVENT: Final = _prerendered(("Event", "WaitEventComplete"))


def _reply(
    session: Session,
    action_id: str | None,
    lost: int,
    events: list[StoredEvent],
    *,
    kicked: bool = False,
) -> Reply:
    if not action_id and session.poll_mode is not CURSOR:
        return Reply((_COMPLETED,), tuple(events), (_COMPLETE_EVENT,))
    head = [response("Success", action_id, ("Message", WAIT_DONE))]
    if session.poll_mode is CURSOR and not kicked:
        missed = session.missed
        if lost or missed is not None:
            head.append(lost_notice(lost, missed or LossReason.OVERRUN))
            session.reported()
    tail: list[Field] = [("Event", "WaitEventComplete")]
    if action_id:
        tail.append(("ActionID", action_id))
    if session.poll_mode is CURSOR:
        tail.append(("Cursor", str(session.cursor)))
    return Reply(tuple(head), tuple(events), (Message(tuple(tail)),))
