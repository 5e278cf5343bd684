"""The global budget of bytes queued to clients: answers being written.

Every AJAM answer takes its share when its body is made and gives it back
once the body has gone to the kernel (or the connection is gone).  A body is
counted ``COPIES`` times: aiohttp keeps it while the transport keeps a copy
of what the socket did not take at once.

Only waitevent answers can be made smaller, so only they obey the budget:

* with room for a full answer, a poll takes ``reply_bytes`` of events;
* with less room, the answer shrinks to the room left, but never below
  ``MIN_SHARE``;
* with less than that, a poll that has events waits for room, in the order
  the polls started waiting, until its own timeout, and then answers empty:
  its events wait for the next poll, nothing is lost and nobody is refused;
* with nothing queued at all, a poll always gets its full answer (so one
  answer larger than the budget still goes out, alone).

Other answers (an action's response, already in memory) are counted but
never wait.  Push streams (``gateway.push``) count what their transports
hold (``adjust``, one copy: the bytes they write are shared with the ring)
and stop writing when there is no ``room``, to go on from their cursor
later.  A client that does not read keeps its share until ``[limits]
send_timeout`` (a stream: ``[push] write_timeout``) closes its connection.
Nothing here does I/O: a waiter is anything with ``wake()``.
"""

from __future__ import annotations

from typing import Final, Protocol

COPIES: Final = 2
"""aiohttp holds the body until it is written; asyncio's transport copies the
part the socket did not take (Python 3.11 keeps it in a bytearray)."""

MIN_SHARE: Final = 64 * 1024
"""Event bytes below which a poll waits for room instead of answering: a
smaller answer would cost more in per-answer work than it frees."""

DEFAULT_REPLY_BYTES: Final = 1024 * 1024
"""1 MiB of events per poll answer: ~2,000 ordinary events, seconds of a busy
PBX, while 10,000 sessions draining a backlog at once stay bounded."""

DEFAULT_QUEUED_BYTES: Final = 128 * 1024 * 1024
"""128 MiB: 64 full 1 MiB answers being written at once (each counted twice);
fast clients give their share back within milliseconds."""


class BudgetWaiter(Protocol):
    def wake(self) -> None: ...


class SendBudget:
    """Bytes of answers being written, against ``limit``."""

    def __init__(self, limit: int = DEFAULT_QUEUED_BYTES) -> None:
        self.limit = limit
        self.used = 0
        self.peak = 0
        self.shrunk = 0
        """Poll answers cut below ``reply_bytes`` for lack of room."""
        self.waited = 0
        """Polls that had events but had to wait for room."""
        self._waiters: dict[BudgetWaiter, None] = {}

    def allowance(self, want: int) -> int:
        """Event bytes a poll answer may carry now; 0: wait for room."""
        room = (self.limit - self.used) // COPIES
        if room >= want or self.used == 0:
            return want
        if room >= MIN_SHARE:
            self.shrunk += 1
            return room
        return 0

    def take(self, size: int) -> int:
        """Count a body of ``size`` bytes being written; returns the share to give back."""
        share = size * COPIES
        self.used += share
        self.peak = max(self.peak, self.used)
        return share

    def give(self, share: int) -> None:
        """A body was written (or dropped): wake as many waiters as now fit."""
        self.adjust(-share)

    def room(self) -> int:
        """Bytes that may still be queued before the limit."""
        return self.limit - self.used

    def adjust(self, delta: int) -> None:
        """Bytes queued grew (a stream's transport holds more) or shrank; room
        given back wakes as many waiting polls as now fit."""
        self.used += delta
        if delta > 0:
            self.peak = max(self.peak, self.used)
            return
        waiters = self._waiters
        fit = (self.limit - self.used) // COPIES // MIN_SHARE or (self.used == 0)
        while waiters and fit > 0:
            waiter = next(iter(waiters))
            del waiters[waiter]
            waiter.wake()
            fit -= 1

    def wait(self, waiter: BudgetWaiter) -> None:
        """Wake ``waiter`` when room is given back (once)."""
        if waiter not in self._waiters:
            self.waited += 1
            self._waiters[waiter] = None

    def forget(self, waiter: BudgetWaiter) -> None:
        self._waiters.pop(waiter, None)

    @property
    def waiting(self) -> int:
        return len(self._waiters)
