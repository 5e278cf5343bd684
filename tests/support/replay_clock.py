"""Simulated time for the HTTP replays, moved along the capture's timeline.

The replay's requests and the simulated PBX's call timers used to run on two
clocks: the replay waited the captured gap after an answer, the PBX counted
from when it got the Originate.  On a loaded machine an answer came late, so
a waitevent the capture sent 0.7 s into a 1 s call went out after the call
had hung up, and its reply held the Hangup events too.

Here the PBX runs on a ``ManualClock`` that only the replay moves.  Before a
request goes out, every timer due by its captured ``t_sent`` has fired and
the events it raised are in the gateway's event log; and simulated time does
not pass a ``t_sent`` until that request has been taken (answered, or parked
as a long poll).  Between requests it keeps up with the scaled real time, so
that a call still ends during a long poll.  What is left to the machine's
speed is only what no order can fix: the real-time timeouts themselves.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable
from typing import Final, TypeVar

from gateway.core.sessions import Session, Waiter
from gateway.simulator.channels import ManualClock
from gateway.wiring import Gateway

T = TypeVar("T")

SETTLE_TURNS: Final = 20
"""Loop turns given to work that needs no I/O (a woken call's next events, a
woken poll's reply).  A turn is not time: load does not change what runs in
twenty of them."""
FOLLOW_TICK: Final = 0.01
"""How often (s) simulated time catches up with the scaled real time."""
PARK_POLL: Final = 0.002
"""How often (s) to look whether a sent request is parked as a long poll."""


async def turns(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


class SimTime:
    """Moves a simulator's ``ManualClock`` in step with one replay."""

    def __init__(
        self,
        clock: ManualClock,
        gateway: Gateway,
        t_sent: Iterable[tuple[int, float]],
        scale: float,
    ) -> None:
        self.clock = clock
        self.gateway = gateway
        self.scale = scale
        self._untaken = dict(t_sent)
        """Step number -> captured t_sent, for every request not yet taken."""
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()

    def gate(self) -> float:
        """Simulated time may go up to here: the earliest request not yet taken."""
        return min(self._untaken.values(), default=math.inf)

    async def settle(self) -> None:
        """Until what the simulator wrote is in the gateway's event log, and
        what that woke has run.  AMI is one ordered stream: the Pong comes
        after every event written before it."""
        await turns(SETTLE_TURNS)
        if self.gateway.ami.ready:
            await self.gateway.ami.send([("Action", "Ping")])
        await turns(SETTLE_TURNS)

    async def advance(self, target: float) -> None:
        """Fire the timers due by ``target`` (never past the gate), one at a
        time, each one's events delivered before the next fires."""
        async with self._lock:
            until = min(target, self.gate())
            while self.clock.wake_next(until):
                await self.settle()

    async def follow(self, start: float) -> None:
        """Keep up with the scaled real time since ``start``, until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            await self.advance((loop.time() - start) / self.scale)
            await asyncio.sleep(FOLLOW_TICK)

    async def ready_for(self, t_sent: float) -> None:
        """Until a request captured at ``t_sent`` may go: every earlier one is
        taken, every timer due by then has fired, and its events arrived."""
        while self.gate() < t_sent:
            await self._changed.wait()
        await self.advance(t_sent)
        await self.settle()

    def waiter(self, session_id: str | None) -> Waiter | None:
        session = self._session(session_id)
        return session.waiter if session is not None else None

    async def taken(
        self,
        number: int,
        answered: asyncio.Future[T],
        session_id: str | None,
        waiter_before: Waiter | None,
    ) -> None:
        """Until the gateway has answered step ``number`` or parked it as a
        long poll (a new waiter on its session); then time may pass its t_sent."""
        while not answered.done() and not self._parked(session_id, waiter_before):
            await asyncio.wait({answered}, timeout=PARK_POLL)
        await self.settle()
        del self._untaken[number]
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _parked(self, session_id: str | None, waiter_before: Waiter | None) -> bool:
        waiter = self.waiter(session_id)
        return waiter is not None and waiter is not waiter_before

    def _session(self, session_id: str | None) -> Session | None:
        if session_id is None:
            return None
        return next((s for s in self.gateway.sessions if s.id == session_id), None)
