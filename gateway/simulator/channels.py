"""Simulated channels and the events Asterisk 22 writes about them.

Every builder returns the fields of one event in the order the captures
show; the simulator turns them into messages and broadcasts them.  Values
that Asterisk prints as ``<unknown>`` when empty are stored empty here.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from dataclasses import dataclass, field
from typing import Final

from gateway.ami.message import Field

Fields = tuple[Field, ...]

STATE_DOWN: Final = 0
STATE_RING: Final = 4
STATE_UP: Final = 6
STATE_DESC: Final = {STATE_DOWN: "Down", STATE_RING: "Ring", 5: "Ringing", STATE_UP: "Up"}

CAUSE_UNKNOWN: Final = 0
CAUSE_NORMAL: Final = 16
CAUSE_TEXT: Final = {CAUSE_UNKNOWN: "Unknown", CAUSE_NORMAL: "Normal Clearing"}

CALLING_PRES: Final = "0 (Presentation Allowed, Not Screened)"
"""``CID-CallingPres`` of every NewCallerid in the captures."""


class SimClock:
    """Simulated time: ``time_scale`` real seconds make one simulated second."""

    def __init__(self, time_scale: float) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.scale = time_scale
        self._wall0 = time.time()
        self._mono0 = time.monotonic()

    def now(self) -> float:
        """Simulated epoch seconds (the real time when the scale is 1)."""
        return self._wall0 + (time.monotonic() - self._mono0) / self.scale

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.scale)


class ManualClock(SimClock):
    """Simulated time that moves only when told to (``wake_next``).

    A test that must know exactly which of the PBX's timers have fired before
    it acts (the HTTP replays) drives time itself: however loaded the machine,
    a call's next step cannot overtake a request.  ``scale`` stays, for the
    few waits that are real timeouts (a synchronous Originate's).
    """

    def __init__(self, time_scale: float = 1.0) -> None:
        super().__init__(time_scale)
        self._elapsed = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        """Sleepers with the same deadline wake in the order they slept."""

    @property
    def elapsed(self) -> float:
        """Simulated seconds since the clock was made."""
        return self._elapsed

    def now(self) -> float:
        return self._wall0 + self._elapsed

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        deadline = self._elapsed + max(seconds, 0.0)
        heapq.heappush(self._sleepers, (deadline, next(self._order), future))
        await future

    def next_deadline(self) -> float | None:
        """When the earliest sleeper is due (None: nobody sleeps)."""
        while self._sleepers and self._sleepers[0][2].done():  # cancelled sleepers
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    def wake_next(self, until: float) -> bool:
        """Move to the earliest deadline not after ``until`` and wake that one
        sleeper; with none due, move to ``until`` and return False."""
        deadline = self.next_deadline()
        if deadline is None or deadline > until:
            self._elapsed = max(self._elapsed, until)
            return False
        _, _, future = heapq.heappop(self._sleepers)
        self._elapsed = max(self._elapsed, deadline)
        future.set_result(None)
        return True


def unknown(value: str) -> str:
    return value or "<unknown>"


@dataclass(slots=True, eq=False)
class Channel:
    """A live channel.  Mutable on purpose: a call changes its state as it runs."""

    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    created: float
    """Simulated epoch seconds, for CDR times, Duration and Seconds."""
    state: int = STATE_DOWN
    priority: int = 1
    cid_num: str = ""
    cid_name: str = ""
    conn_num: str = ""
    conn_name: str = ""
    app: str = ""
    appdata: str = ""
    answered: float | None = None
    variables: dict[str, str] = field(default_factory=dict)

    @property
    def device(self) -> str:
        """``Local/100@test`` for ``Local/100@test-0000002c;1``."""
        return self.name.rsplit("-", 1)[0]

    def snapshot(self, prefix: str = "") -> Fields:
        return (
            (f"{prefix}Channel", self.name),
            (f"{prefix}ChannelState", str(self.state)),
            (f"{prefix}ChannelStateDesc", STATE_DESC.get(self.state, "Unknown")),
            (f"{prefix}CallerIDNum", unknown(self.cid_num)),
            (f"{prefix}CallerIDName", unknown(self.cid_name)),
            (f"{prefix}ConnectedLineNum", unknown(self.conn_num)),
            (f"{prefix}ConnectedLineName", unknown(self.conn_name)),
            (f"{prefix}Language", "en"),
            (f"{prefix}AccountCode", ""),
            (f"{prefix}Context", self.context),
            (f"{prefix}Exten", self.exten),
            (f"{prefix}Priority", str(self.priority)),
            (f"{prefix}Uniqueid", self.uniqueid),
            (f"{prefix}Linkedid", self.linkedid),
        )


def event(name: str, privilege: str, *parts: Fields) -> Fields:
    head: Fields = (("Event", name), ("Privilege", f"{privilege},all"))
    return head + tuple(pair for part in parts for pair in part)


def newchannel(chan: Channel) -> Fields:
    return event("Newchannel", "call", chan.snapshot())


def newstate(chan: Channel) -> Fields:
    return event("Newstate", "call", chan.snapshot())


def newexten(chan: Channel, app: str, data: str) -> Fields:
    extra = (("Extension", chan.exten), ("Application", app), ("AppData", data))
    return event("Newexten", "dialplan", chan.snapshot(), extra)


def varset(chan: Channel, name: str, value: str) -> Fields:
    return event("VarSet", "dialplan", chan.snapshot(), (("Variable", name), ("Value", value)))


def global_varset(name: str, value: str) -> Fields:
    none = (("Channel", "none"), ("Uniqueid", "none"))
    return event("VarSet", "dialplan", none, (("Variable", name), ("Value", value)))


def newcallerid(chan: Channel) -> Fields:
    return event("NewCallerid", "call", chan.snapshot(), (("CID-CallingPres", CALLING_PRES),))


def newconnectedline(chan: Channel) -> Fields:
    return event("NewConnectedLine", "call", chan.snapshot())


def localbridge(one: Channel, two: Channel, optimize: bool) -> Fields:
    tail = (("Context", two.context), ("Exten", two.exten))
    flag = (("LocalOptimization", "Yes" if optimize else "No"),)
    return event(
        "LocalBridge", "call", one.snapshot("LocalOne"), two.snapshot("LocalTwo"), tail, flag
    )


def dial_begin(caller: Channel | None, dest: Channel, dialstring: str) -> Fields:
    side = caller.snapshot() if caller is not None else ()
    return event("DialBegin", "call", side, dest.snapshot("Dest"), (("DialString", dialstring),))


def dial_end(caller: Channel | None, dest: Channel, status: str) -> Fields:
    side = caller.snapshot() if caller is not None else ()
    return event("DialEnd", "call", side, dest.snapshot("Dest"), (("DialStatus", status),))


def device_state(device: str, state: str) -> Fields:
    return event("DeviceStateChange", "call", (("Device", device), ("State", state)))


def hangup_request(chan: Channel, cause: int, *, soft: bool = False) -> Fields:
    name = "SoftHangupRequest" if soft else "HangupRequest"
    return event(name, "call", chan.snapshot(), (("Cause", str(cause)),))


def hangup(chan: Channel, cause: int) -> Fields:
    text = CAUSE_TEXT.get(cause, "Unknown")
    return event("Hangup", "call", chan.snapshot(), (("Cause", str(cause)), ("Cause-txt", text)))


def user_event(chan: Channel, name: str, lines: Fields) -> Fields:
    return event("UserEvent", "user", chan.snapshot(), (("UserEvent", name),), lines)


def _cdr_time(epoch: float | None) -> str:
    return "" if epoch is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def cdr(chan: Channel, destination: str, last: tuple[str, str], end: float) -> Fields:
    """The cdr_manager record of one channel, as the captures show it."""
    callerid = f'"{chan.cid_name}" <{chan.cid_num}>'
    billable = 0 if chan.answered is None else int(end - chan.answered)
    return event(
        "Cdr",
        "cdr",
        (
            ("AccountCode", ""),
            ("Source", chan.cid_num),
            ("Destination", destination),
            ("DestinationContext", chan.context),
            ("CallerID", callerid),
            ("Channel", chan.name),
            ("DestinationChannel", ""),
            ("LastApplication", last[0]),
            ("LastData", last[1]),
            ("StartTime", _cdr_time(chan.created)),
            ("AnswerTime", _cdr_time(chan.answered)),
            ("EndTime", _cdr_time(end)),
            ("Duration", str(int(end - chan.created))),
            ("BillableSeconds", str(billable)),
            ("Disposition", "ANSWERED" if chan.answered is not None else "NO ANSWER"),
            ("AMAFlags", "DOCUMENTATION"),
            ("UniqueID", chan.uniqueid),
            ("UserField", ""),
        ),
    )
