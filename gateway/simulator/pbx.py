"""The simulated PBX: Local channel pairs running the captured test dialplan.

A call is one Local pair (``;1`` the originated side, ``;2`` the side that
runs the dialplan) driven by one asyncio task.  It ends when either side
finishes or an AMI Hangup hits it, and each way of ending writes the event
sequence the captures show for it.  Times are simulated seconds (SimClock).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Final

from gateway.ami.message import Field
from gateway.simulator.captured import HANGUP_HANDLER
from gateway.simulator.channels import (
    CAUSE_NORMAL,
    CAUSE_UNKNOWN,
    STATE_RING,
    STATE_UP,
    Channel,
    Fields,
    SimClock,
    cdr,
    device_state,
    dial_begin,
    dial_end,
    event,
    hangup,
    hangup_request,
    localbridge,
    newcallerid,
    newchannel,
    newconnectedline,
    newexten,
    newstate,
    unknown,
)
from gateway.simulator.dialplan import (
    Call,
    Dialplan,
    Ending,
    OriginateRequest,
    Target,
    parse_target,
)

Emit = Callable[[Fields], None]

REASON_ANSWERED: Final = 4
REASON_FAILED: Final = 0
REASON_HANGUP: Final = 1


def originate_response(req: OriginateRequest, chan: Channel | None, reason: int) -> Fields:
    action_id = (("ActionID", req.action_id),) if req.action_id else ()
    where = (
        (("Application", req.application), ("Data", req.data))
        if req.application
        else (("Context", req.context), ("Exten", req.exten))
    )
    return event(
        "OriginateResponse",
        "call",
        action_id,
        (
            ("Response", "Success" if reason == REASON_ANSWERED else "Failure"),
            ("Channel", chan.name if chan is not None else req.channel),
        ),
        where,
        (
            ("Reason", str(reason)),
            ("Uniqueid", chan.uniqueid if chan is not None else "<null>"),
            ("CallerIDNum", unknown(req.callerid[1])),
            ("CallerIDName", unknown(req.callerid[0])),
        ),
    )


class Pbx:
    """Every live channel and call, the global variables and the queue."""

    def __init__(self, clock: SimClock, emit: Emit) -> None:
        self.clock = clock
        self.emit = emit
        self.channels: dict[str, Channel] = {}
        self.globals: dict[str, str] = {}
        self.dialplan = Dialplan(self)
        self._calls: dict[str, Call] = {}
        self._local_seq = 0
        self._unique_seq = 0
        self._tasks: set[asyncio.Task[None]] = set()

    # -- looking things up -------------------------------------------------

    def find(self, name: str) -> Channel | None:
        """Asterisk matches channel names without regard to case."""
        return self.channels.get(name.lower())

    def call_of(self, chan: Channel) -> Call | None:
        return self._calls.get(chan.name.lower())

    # -- starting and ending calls -----------------------------------------

    def originate(self, req: OriginateRequest) -> Call | None:
        """Start a call; None (and a failed OriginateResponse) if it cannot exist."""
        target = parse_target(req.channel)
        if target is None:
            if req.announce:
                self.emit(originate_response(req, None, REASON_FAILED))
            return None
        return self.start_call(target, req, None)

    def start_call(
        self, target: Target, req: OriginateRequest | None, caller: Channel | None
    ) -> Call:
        call = self._new_call(target, req, caller)
        self._setup(call)
        self.spawn(self._run(call))
        return call

    def end(self, call: Call, how: Ending) -> None:
        if not call.ended.done():
            call.ended.set_result(how)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Stop every call at once, with no events (Asterisk died)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for call in self._calls.values():  # a call cancelled before its task ever ran
            call.answer_event.set()
            call.finished.set()
        self.channels.clear()
        self._calls.clear()

    def hangup(self, chans: Iterable[Channel]) -> None:
        """An AMI Hangup.  A call that loses ``;2`` ends as hung up; one that
        loses only ``;1`` ends as if ``;1`` had finished."""
        hit: dict[int, tuple[Call, bool]] = {}
        for chan in chans:
            call = self.call_of(chan)
            if call is not None:
                two = hit.get(id(call), (call, False))[1] or chan is call.two
                hit[id(call)] = (call, two)
        for call, two in hit.values():
            self.end(call, "hangup" if two else "one")

    async def wait_answered(self, call: Call) -> bool:
        await call.answer_event.wait()
        return call.was_answered

    # -- the call itself ---------------------------------------------------

    def _new_call(
        self, target: Target, req: OriginateRequest | None, caller: Channel | None
    ) -> Call:
        name = f"Local/{target.dialstring}-{self._local_seq:08x}"
        self._local_seq += 1
        now = self.clock.now()
        linkedid = caller.linkedid if caller is not None else ""
        one = self._channel(f"{name};1", linkedid, target, now)
        two = self._channel(f"{name};2", one.linkedid, target, now)
        two.state = STATE_RING
        loop = asyncio.get_running_loop()
        return Call(one, two, target, req, caller, ended=loop.create_future())

    def _channel(self, name: str, linkedid: str, target: Target, now: float) -> Channel:
        uniqueid = f"{int(now)}.{self._unique_seq}"
        self._unique_seq += 1
        return Channel(name, uniqueid, linkedid or uniqueid, target.context, target.exten, now)

    async def _run(self, call: Call) -> None:
        try:
            call.legs.append(self.spawn(self.dialplan.run(call, call.two, call.target.exten)))
            how = await call.ended
            self._stop_legs(call)
            self._teardown(call, how)
        finally:
            self._stop_legs(call)
            for chan in (call.one, call.two):
                self.channels.pop(chan.name.lower(), None)
                self._calls.pop(chan.name.lower(), None)
            call.answer_event.set()
            call.finished.set()

    def _stop_legs(self, call: Call) -> None:
        for task in call.legs:
            task.cancel()

    def _setup(self, call: Call) -> None:
        one, two = call.one, call.two
        for chan in (one, two):
            self.channels[chan.name.lower()] = chan
            self._calls[chan.name.lower()] = call
        self.emit(newchannel(one))
        self.emit(newchannel(two))
        one.app, one.appdata = "AppDial2", "(Outgoing Line)"
        self.emit(newexten(one, one.app, one.appdata))
        req = call.request
        if req is not None and any(req.callerid):
            self._set_callerid(one, two, req.callerid)
        if req is not None and req.variables:
            self._set_variables(one, two, req.variables)
        self.emit(localbridge(one, two, call.target.optimize))
        self.emit(dial_begin(call.caller, one, call.target.dialstring))

    def _set_callerid(self, one: Channel, two: Channel, callerid: tuple[str, str]) -> None:
        name, num = callerid
        one.cid_name, one.cid_num = name, num
        self.emit(newcallerid(one))
        for chan in (one, two):
            chan.conn_name, chan.conn_num = name, num
        self.emit(newconnectedline(one))
        two.cid_name, two.cid_num = name, num
        self.emit(newcallerid(two))
        self.emit(newconnectedline(two))

    def _set_variables(self, one: Channel, two: Channel, variables: tuple[Field, ...]) -> None:
        # The captured Asterisk set them on ;1 in reverse order, on ;2 in order.
        for chan, order in ((one, variables[::-1]), (two, variables)):
            for name, value in order:
                self.dialplan.set_variable(chan, name, value)

    def answer(self, call: Call) -> None:
        """The ``;2`` side answers: both sides go Up and ``;1`` starts its job."""
        one, two = call.one, call.two
        if two.state == STATE_UP:
            return
        now = self.clock.now()
        for chan in (two, one):
            chan.state, chan.answered = STATE_UP, now
            self.emit(newstate(chan))
        self.emit(dial_end(call.caller, one, "ANSWER"))
        if call.request is not None and call.request.announce:
            self.emit(originate_response(call.request, one, REASON_ANSWERED))
        for _ in range(2):
            self.emit(device_state(one.device, "INUSE"))
        call.was_answered = True
        call.answer_event.set()
        call.legs.append(self.spawn(self.dialplan.run_outgoing(call)))

    def _teardown(self, call: Call, how: Ending) -> None:
        end = self.clock.now()
        if call.request is not None and call.request.announce and not call.was_answered:
            self.emit(originate_response(call.request, call.one, REASON_HANGUP))
        if how == "two":
            self._dialplan_side_ended(call, end)
        else:
            self._first_side_ended(call, end, hung_up=how == "hangup")
        if call.was_answered:
            for _ in range(2):
                self.emit(device_state(call.one.device, "NOT_INUSE"))

    def _dialplan_side_ended(self, call: Call, end: float) -> None:
        """``;2`` ran out of dialplan (capture dialplan_userevent): Normal Clearing."""
        one, two, dest = call.one, call.two, call.target.exten
        self.emit(cdr(two, dest, call.last_two, end))
        self.emit(hangup_request(two, CAUSE_NORMAL, soft=True))
        self._hangup_handler(two)
        self.emit(hangup_request(one, CAUSE_NORMAL))
        self.emit(hangup(two, CAUSE_NORMAL))
        self.emit(cdr(one, dest, (one.app, one.appdata), end))
        self.emit(hangup(one, CAUSE_NORMAL))

    def _first_side_ended(self, call: Call, end: float, *, hung_up: bool) -> None:
        """``;1`` finished (capture originate_async_events) or an AMI Hangup hit
        ``;2`` (capture hangup_regex_list)."""
        one, two, dest = call.one, call.two, call.target.exten
        if hung_up:
            self.emit(hangup_request(two, CAUSE_NORMAL, soft=True))
        self.emit(hangup_request(two, CAUSE_UNKNOWN))
        self.emit(cdr(one, dest, (one.app, one.appdata), end))
        self.emit(hangup(one, CAUSE_UNKNOWN))
        if not hung_up:
            self.emit(hangup_request(two, CAUSE_NORMAL, soft=True))
        self._hangup_handler(two)
        self.emit(hangup(two, CAUSE_UNKNOWN))
        self.emit(cdr(two, dest, call.last_two, end))

    def _hangup_handler(self, chan: Channel) -> None:
        """The ``h`` extension runs; the Hangup event then shows priority 2."""
        chan.exten, chan.priority = "h", 1
        self.emit(newexten(chan, *HANGUP_HANDLER))
        chan.priority = 2
