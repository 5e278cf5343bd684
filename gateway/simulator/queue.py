"""The simulated queue ``testq``: its statistics and the events app_queue writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gateway.simulator.captured import QUEUE, QUEUE_MEMBER, QUEUE_MEMBER_NAME
from gateway.simulator.channels import Channel, Fields, event

HISTORY_AGE: Final = 400
"""The captured queue had been up about 400 s, with one completed 5-second
call taken by its member; the simulated one starts with the same history."""


@dataclass(slots=True, eq=False)
class QueueStats:
    """Mutable on purpose: calls through the queue update it."""

    login_time: int
    last_call: int
    completed: int = 1
    talk_total: int = 5
    calls_taken: int = 1
    callers: int = 0
    member_calls: int = 0

    @classmethod
    def at(cls, now: float) -> QueueStats:
        return cls(login_time=int(now) - HISTORY_AGE, last_call=int(now) - HISTORY_AGE + 108)

    @property
    def member_in_call(self) -> bool:
        return self.member_calls > 0

    def record_call(self, talk: int, now: int) -> None:
        self.completed += 1
        self.calls_taken += 1
        self.talk_total += talk
        self.last_call = now

    @property
    def talk_time(self) -> int:
        return self.talk_total // self.completed if self.completed else 0


def _queue_fields(caller: Channel, agent: Channel) -> Fields:
    member = (("Queue", QUEUE), ("Interface", QUEUE_MEMBER), ("MemberName", QUEUE_MEMBER_NAME))
    return caller.snapshot() + agent.snapshot("Dest") + member


def caller_join(caller: Channel, count: int) -> Fields:
    position = (("Queue", QUEUE), ("Position", "1"), ("Count", str(count)))
    return event("QueueCallerJoin", "agent", caller.snapshot(), position)


def caller_leave(caller: Channel, count: int) -> Fields:
    position = (("Queue", QUEUE), ("Count", str(count)), ("Position", "1"))
    return event("QueueCallerLeave", "agent", caller.snapshot(), position)


def agent_called(caller: Channel, agent: Channel) -> Fields:
    return event("AgentCalled", "agent", _queue_fields(caller, agent))


def agent_connect(caller: Channel, agent: Channel, hold: int) -> Fields:
    times = (("HoldTime", str(hold)), ("RingTime", "0"))
    return event("AgentConnect", "agent", _queue_fields(caller, agent), times)


def agent_complete(caller: Channel, agent: Channel, hold: int, talk: int) -> Fields:
    times = (("HoldTime", str(hold)), ("TalkTime", str(talk)), ("Reason", "agent"))
    return event("AgentComplete", "agent", _queue_fields(caller, agent), times)


def _tail(action_id: str) -> Fields:
    return (("ActionID", action_id),) if action_id else ()


def queue_params(stats: QueueStats, action_id: str) -> Fields:
    """QueueStatus's first item: the ActionID comes last, as captured."""
    return (
        ("Event", "QueueParams"),
        ("Queue", QUEUE),
        ("Max", "0"),
        ("Strategy", "ringall"),
        ("Calls", str(stats.callers)),
        ("Holdtime", "0"),
        ("TalkTime", str(stats.talk_time)),
        ("Completed", str(stats.completed)),
        ("Abandoned", "0"),
        ("ServiceLevel", "0"),
        ("ServicelevelPerf", "100.0"),
        ("ServicelevelPerf2", "100.0"),
        ("Weight", "0"),
        *_tail(action_id),
    )


def queue_member(stats: QueueStats, action_id: str) -> Fields:
    return (
        ("Event", "QueueMember"),
        ("Queue", QUEUE),
        ("Name", QUEUE_MEMBER_NAME),
        ("Location", QUEUE_MEMBER),
        ("StateInterface", QUEUE_MEMBER),
        ("Membership", "static"),
        ("Penalty", "0"),
        ("CallsTaken", str(stats.calls_taken)),
        ("LastCall", str(stats.last_call)),
        ("LastPause", "0"),
        ("LoginTime", str(stats.login_time)),
        ("InCall", "1" if stats.member_in_call else "0"),
        ("Status", "2" if stats.member_in_call else "1"),
        ("Paused", "0"),
        ("PausedReason", ""),
        ("Wrapuptime", "0"),
        *_tail(action_id),
    )


def queue_summary(stats: QueueStats, action_id: str) -> Fields:
    return (
        ("Event", "QueueSummary"),
        ("Queue", QUEUE),
        ("LoggedIn", "1"),
        ("Available", "0" if stats.member_in_call else "1"),
        ("Callers", str(stats.callers)),
        ("HoldTime", "0"),
        ("TalkTime", str(stats.talk_time)),
        ("LongestHoldTime", "0"),
        *_tail(action_id),
    )
