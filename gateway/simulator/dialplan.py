"""The dialplan side of the simulated PBX: what each extension's apps do.

The ``test`` context of the captures (captured.DIALPLAN) runs on the ``;2``
side of each Local pair; after the answer, ``;1`` runs the Originate's
application (``Wait 20``) or extension.  Dial and Queue start a second Local
pair whose caller is the channel that runs them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

from gateway.ami.message import Field
from gateway.simulator.captured import ANSWER_DELAY, CONTEXT, DIALPLAN, QUEUE, QUEUE_MEMBER
from gateway.simulator.channels import (
    Channel,
    Fields,
    SimClock,
    global_varset,
    newexten,
    user_event,
    varset,
)
from gateway.simulator.queue import (
    QueueStats,
    agent_called,
    agent_complete,
    agent_connect,
    caller_join,
    caller_leave,
)

Ending = Literal["one", "two", "hangup"]
"""Which side ended the call: ``;1`` (its application finished), ``;2`` (the
dialplan ran out) or an AMI Hangup."""

FUNCTION_LEN: Final = "LEN"


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    channel: str
    application: str = ""
    data: str = ""
    context: str = ""
    exten: str = ""
    callerid: tuple[str, str] = ("", "")
    """(name, number)."""
    variables: tuple[Field, ...] = ()
    action_id: str = ""
    announce: bool = True
    """Write an OriginateResponse: async Originate does, sync Originate and
    the background call generator do not."""


@dataclass(frozen=True, slots=True)
class Target:
    exten: str
    context: str
    optimize: bool

    @property
    def dialstring(self) -> str:
        return f"{self.exten}@{self.context}"


def parse_target(channel: str) -> Target | None:
    """``Local/100@test[/n]`` to a target in the dialplan, else None (fails)."""
    tech, slash, rest = channel.partition("/")
    if tech.lower() != "local" or not slash:
        return None
    where, _, options = rest.partition("/")
    exten, at, context = where.partition("@")
    context = context if at else "default"
    if context != CONTEXT or exten not in DIALPLAN:
        return None
    return Target(exten, context, "n" not in options)


@dataclass(slots=True, eq=False)
class Call:
    """One Local pair.  Mutable on purpose: it is the state of a running call."""

    one: Channel
    two: Channel
    target: Target
    request: OriginateRequest | None
    """None for the callee side of a Dial or Queue."""
    caller: Channel | None
    ended: asyncio.Future[Ending]
    answer_event: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    was_answered: bool = False
    last_two: tuple[str, str] = ("", "")
    legs: list[asyncio.Task[None]] = field(default_factory=list)


def _seconds(data: str) -> float:
    try:
        return max(float(data.split(",")[0] or 0), 0.0)
    except ValueError:
        return 0.0


def _header(line: str) -> Field:
    name, _, value = line.partition(":")
    return (name, value.lstrip(" "))


async def _forever() -> None:
    """Until the call ends and cancels it (Echo, a bridged callee)."""
    await asyncio.Event().wait()


class CallControl(Protocol):
    """What the dialplan asks of the PBX that runs it (``pbx.Pbx``)."""

    @property
    def clock(self) -> SimClock: ...
    @property
    def globals(self) -> dict[str, str]: ...
    def emit(self, fields: Fields, /) -> None: ...
    def start_call(
        self, target: Target, req: OriginateRequest | None, caller: Channel | None
    ) -> Call: ...
    def answer(self, call: Call) -> None: ...
    def end(self, call: Call, how: Ending) -> None: ...
    async def wait_answered(self, call: Call) -> bool: ...


class Dialplan:
    """Runs extensions and outgoing applications on behalf of the PBX."""

    def __init__(self, pbx: CallControl) -> None:
        self.pbx = pbx
        self.queue = QueueStats.at(pbx.clock.now())

    # -- variables ---------------------------------------------------------

    def set_variable(self, chan: Channel | None, name: str, value: str) -> None:
        if chan is None:
            self.pbx.globals[name] = value
            self.pbx.emit(global_varset(name, value))
            return
        chan.variables[name] = value
        self.pbx.emit(varset(chan, name, value))

    def get_variable(self, chan: Channel | None, name: str) -> str:
        """Functions, then the channel's built-ins and variables, then globals."""
        if name.endswith(")"):
            function, _, args = name[:-1].partition("(")
            return self._function(chan, function.upper(), args)
        if chan is not None:
            builtin = {
                "CHANNEL": chan.name,
                "UNIQUEID": chan.uniqueid,
                "CONTEXT": chan.context,
                "EXTEN": chan.exten,
                "PRIORITY": str(chan.priority),
            }.get(name)
            if builtin is not None:
                return builtin
            if name in chan.variables:
                return chan.variables[name]
        return self.pbx.globals.get(name, "")

    def _function(self, chan: Channel | None, function: str, args: str) -> str:
        if function == FUNCTION_LEN:
            return str(len(args))
        if function == "CALLERID" and chan is not None:
            return {"num": chan.cid_num, "name": chan.cid_name}.get(args.lower(), "")
        return ""

    # -- running -----------------------------------------------------------

    async def run(self, call: Call, chan: Channel, exten: str) -> None:
        """Run ``exten`` on ``chan`` from priority 1; the side ends when it runs out."""
        chan.exten = exten
        for priority, (app, data) in enumerate(DIALPLAN.get(exten, ()), 1):
            chan.priority, chan.app, chan.appdata = priority, app, data
            if chan is call.two:
                call.last_two = (app, data)
            self.pbx.emit(newexten(chan, app, data))
            if app == "Hangup":
                break
            await self._app(call, chan, app, data)
        self.pbx.end(call, "two" if chan is call.two else "one")

    async def run_outgoing(self, call: Call) -> None:
        """``;1`` after the answer: the Originate's application or extension."""
        req, one = call.request, call.one
        if req is None:
            await _forever()
        elif req.application:
            one.app, one.appdata = req.application, req.data
            if req.application.lower() == "wait":
                await self.pbx.clock.sleep(_seconds(req.data))
            elif req.application.lower() != "hangup":
                await _forever()
        elif req.context == CONTEXT and req.exten in DIALPLAN:
            one.context = req.context
            await self.run(call, one, req.exten)
        self.pbx.end(call, "one")

    async def _app(self, call: Call, chan: Channel, app: str, data: str) -> None:
        if app == "Answer":
            if chan is call.two:
                self.pbx.answer(call)
            await self.pbx.clock.sleep(ANSWER_DELAY)
        elif app == "Wait":
            await self.pbx.clock.sleep(_seconds(data))
        elif app == "Echo":
            await _forever()
        elif app == "UserEvent":
            name, *lines = data.split(",")
            self.pbx.emit(user_event(chan, name, tuple(_header(line) for line in lines)))
        elif app == "Set":
            name, _, value = data.partition("=")
            self.set_variable(chan, name, value)
        elif app == "Dial":
            await self._dial(call, chan, data.split(",")[0])
        elif app == "Queue":
            await self._queue(call, chan, data.split(",")[0])

    async def _dial(self, call: Call, chan: Channel, dialstring: str) -> None:
        target = parse_target(dialstring)
        if target is None:
            self.set_variable(chan, "DIALSTATUS", "CHANUNAVAIL")
            return
        callee = self.pbx.start_call(target, None, chan)
        try:
            if await self.pbx.wait_answered(callee):
                if chan is call.two:
                    self.pbx.answer(call)
                await callee.finished.wait()
        finally:
            self.pbx.end(callee, "hangup")

    async def _queue(self, call: Call, chan: Channel, name: str) -> None:
        target = parse_target(QUEUE_MEMBER)
        if name != QUEUE or target is None:
            return
        stats, clock, emit = self.queue, self.pbx.clock, self.pbx.emit
        stats.callers += 1
        emit(caller_join(chan, stats.callers))
        joined = clock.now()
        agent = self.pbx.start_call(target, None, chan)
        waiting, talking = True, False
        try:
            emit(agent_called(chan, agent.one))
            if not await self.pbx.wait_answered(agent):
                return
            stats.callers, waiting = stats.callers - 1, False
            hold = int(clock.now() - joined)
            emit(caller_leave(chan, stats.callers))
            emit(agent_connect(chan, agent.one, hold))
            if chan is call.two:
                self.pbx.answer(call)
            stats.member_calls, talking = stats.member_calls + 1, True
            connected = clock.now()
            await agent.finished.wait()
            stats.record_call(int(clock.now() - connected), int(clock.now()))
            emit(agent_complete(chan, agent.one, hold, int(clock.now() - connected)))
        finally:
            stats.callers -= 1 if waiting else 0
            stats.member_calls -= 1 if talking else 0
            self.pbx.end(agent, "hangup")
