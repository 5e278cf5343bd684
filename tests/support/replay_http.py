"""Replaying an ``ajam/*.http`` capture against the gateway, over real sockets.

Each captured request is written as raw bytes on its own loopback TCP
connection (or on the captured one, where ``conn=`` repeats), at its
captured ``t_sent`` scaled by ``scale``, after every exchange that had
finished before it in the capture.  What the capture could not know (session
ids, MD5 keys, Digest nonces and responses) is rewritten on the way
(tests/support/replay_rewrite.py); nothing else changes: same method, target,
headers, body.

The simulator's call timers run on simulated time that the replay moves
(tests/support/replay_clock.py), so that no timer overtakes a request on a loaded
machine.  Both sides are then reduced to a ``View`` (tests/support/httpmask.py): the status,
the headers that are compared, and the body with the values that change from
run to run masked.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from gateway.ami.message import header
from gateway.app import GATEWAY
from gateway.simulator import Simulator
from gateway.simulator.channels import ManualClock
from gateway.tasks import cancel_and_wait
from gateway.wiring import Gateway
from tests.support.fixturedata import AJAM_DIR, Exchange, read_http_fixture
from tests.support.harness import new_app, wait_ready
from tests.support.httpmask import (
    ASTERISK_ID,
    View,
    ViewMaker,
    gateway_id,
    request_cookie_id,
    split_response,
)
from tests.support.replay_clock import SimTime
from tests.support.replay_rewrite import Rewriter

SLACK: Final = 2.0
"""Generous bound (s) on top of a captured duration, and on a close to come."""
READ_LIMIT: Final = 20.0
"""No response may take longer: the longest recorded waitevent timeout is 10 s."""

# -- the capture's timing lines ------------------------------------------------

_EXCHANGE = re.compile(
    r"#### EXCHANGE (\d+): .*\| conn=(\d+) .*\| t_sent=([\d.]+) t_first_byte=[\d.]+ "
    r"t_done=([\d.]+) \| server_closed=(True|False)"
)
_STILL_OPEN = re.compile(r"#### after response (\d+): still open after ([\d.]+) s")


@dataclass(frozen=True, slots=True)
class Step:
    """One captured exchange and how it was timed."""

    exchange: Exchange
    conn: int
    t_sent: float
    t_done: float
    server_closed: bool
    open_after: float | None
    """The recorder saw the connection still open this long after the response."""

    @property
    def number(self) -> int:
        return self.exchange.number

    @property
    def duration(self) -> float:
        return self.t_done - self.t_sent


def load_steps(name: str) -> tuple[Step, ...]:
    text = (AJAM_DIR / f"{name}.http").read_bytes().decode("latin-1")
    lines = {int(m.group(1)): m for m in _EXCHANGE.finditer(text)}
    still_open = {int(m.group(1)): float(m.group(2)) for m in _STILL_OPEN.finditer(text)}
    return tuple(
        Step(
            exchange=ex,
            conn=int(lines[ex.number].group(2)),
            t_sent=float(lines[ex.number].group(3)),
            t_done=float(lines[ex.number].group(4)),
            server_closed=lines[ex.number].group(5) == "True",
            open_after=still_open.get(ex.number),
        )
        for ex in read_http_fixture(name)
    )


# -- raw HTTP ------------------------------------------------------------------


async def read_response(reader: asyncio.StreamReader, *, head_only: bool) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    _, headers, _ = split_response(head)
    length = header(headers, "Content-Length")
    if head_only:
        return head
    if length is None:
        return head + await reader.read()
    return head + await reader.readexactly(int(length))


async def closes_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Whether the server closes the connection (sending nothing more) in time."""
    try:
        async with asyncio.timeout(seconds):
            extra = await reader.read(1)
    except TimeoutError:
        return False
    assert extra == b"", f"unexpected bytes after the response: {extra!r}"
    return True


# -- running a case ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """What the gateway sent back for one step."""

    sent: bytes
    response: bytes
    elapsed: float
    closed: bool | None
    """Checked only where the capture shows a close, or the connection still open."""


@dataclass(frozen=True, slots=True)
class Running:
    """A gateway on a loopback port, and the simulator's clock, which the replay moves."""

    port: int
    gateway: Gateway
    clock: ManualClock


@contextlib.asynccontextmanager
async def running_gateway(scale: float, **sections: Mapping[str, Any]) -> AsyncIterator[Running]:
    """The gateway against a simulator whose time the replay moves
    (tests/support/replay_clock.py)."""
    clock = ManualClock(scale)
    sim = Simulator(time_scale=scale, clock=clock)
    app = new_app(await sim.start(), **sections)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        await wait_ready(app)
        yield Running(int(runner.addresses[0][1]), app[GATEWAY], clock)
    finally:
        await runner.cleanup()
        await sim.stop()


HELD: Final = 0.5
"""A response that took longer than this was a held poll."""


def _done_before(before: Step, step: Step) -> bool:
    """Whether ``before`` had finished when ``step`` was sent.  The capture's
    times are whole milliseconds: a held poll that ended in the very
    millisecond ``step`` was sent was ended by it (a newer waitevent kicks
    the older, as in manager_waitevent_concurrent), so it is not waited for."""
    if before.t_done == step.t_sent and before.duration > HELD:
        return False
    return before.t_done <= step.t_sent


class Replay:
    """Runs the steps of one capture against a gateway port."""

    def __init__(self, running: Running, steps: tuple[Step, ...], scale: float) -> None:
        self.port = running.port
        self.steps = steps
        self.scale = scale
        self.time = SimTime(
            running.clock, running.gateway, ((s.number, s.t_sent) for s in steps), scale
        )
        self.rewriter = Rewriter()
        self.answers: dict[int, Answer] = {}
        self._done: dict[int, asyncio.Event] = {s.number: asyncio.Event() for s in steps}
        self._finished: dict[int, float] = {}
        self._conns: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}

    async def run(self) -> dict[int, Answer]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        follower = loop.create_task(self.time.follow(start))
        try:
            async with asyncio.TaskGroup() as group:
                for step in self.steps:
                    group.create_task(self._step(step, start))
        finally:
            await cancel_and_wait(follower)
            for _, writer in self._conns.values():
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()
        return self.answers

    async def _when(self, step: Step, start: float) -> float:
        """The scaled t_sent, and never before the captured gap after what it waited for."""
        at = start + step.t_sent * self.scale
        for before in self.steps:
            if before.number < step.number and _done_before(before, step):
                await self._done[before.number].wait()
                gap = (step.t_sent - before.t_done) * self.scale
                at = max(at, self._finished[before.number] + gap)
        return at

    async def _step(self, step: Step, start: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, await self._when(step, start) - loop.time()))
        await self.time.ready_for(step.t_sent)
        reader, writer = await self._connection(step.conn)
        sent = self.rewriter.request(step.exchange.request)
        session_id = request_cookie_id(sent)
        waiter = self.time.waiter(session_id)
        began = loop.time()
        writer.write(sent)
        head_only = step.exchange.method == "HEAD"
        reading = asyncio.ensure_future(read_response(reader, head_only=head_only))
        try:
            async with asyncio.timeout(READ_LIMIT):
                await self.time.taken(step.number, reading, session_id, waiter)
                response = await reading
        finally:
            reading.cancel()
        elapsed = loop.time() - began
        self.rewriter.learn(step.exchange.response, response)
        closed = await self._closed(step, reader)
        self.answers[step.number] = Answer(sent, response, elapsed, closed)
        self._finished[step.number] = loop.time()
        self._done[step.number].set()

    async def _closed(self, step: Step, reader: asyncio.StreamReader) -> bool | None:
        if step.server_closed:
            return await closes_within(reader, SLACK)
        if step.open_after is not None:
            return await closes_within(reader, step.open_after * self.scale)
        return None

    async def _connection(self, conn: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if conn not in self._conns:
            self._conns[conn] = await asyncio.open_connection("127.0.0.1", self.port)
        return self._conns[conn]


def views(
    steps: tuple[Step, ...], answers: Mapping[int, Answer], fmt: str, node_id: str
) -> tuple[dict[int, View], dict[int, View]]:
    """(expected, actual) views of every exchange, masked in exchange order."""
    theirs, ours = ViewMaker(fmt, ASTERISK_ID), ViewMaker(fmt, gateway_id(node_id))
    expected: dict[int, View] = {}
    actual: dict[int, View] = {}
    for step in steps:
        ex, answer = step.exchange, answers[step.number]
        closed = step.server_closed if answer.closed is not None else None
        expected[step.number] = theirs(ex.response, ex.request, closed)
        actual[step.number] = ours(answer.response, answer.sent, answer.closed)
    return expected, actual


@dataclass(frozen=True, slots=True)
class CaseRun:
    """One capture replayed: what was sent and got, and both sides' views."""

    steps: tuple[Step, ...]
    answers: Mapping[int, Answer]
    expected: Mapping[int, View]
    actual: Mapping[int, View]

    def step(self, number: int) -> Step:
        return next(s for s in self.steps if s.number == number)


async def replay_case(
    name: str, *, fmt: str, node_id: str, scale: float, **sections: Mapping[str, Any]
) -> CaseRun:
    """Replays ``name`` against a fresh simulator and gateway of its own."""
    steps = load_steps(name)
    http = {"node_id": node_id, **sections.pop("http", {})}
    async with running_gateway(scale, http=http, **sections) as running:
        answers = await Replay(running, steps, scale).run()
    expected, actual = views(steps, answers, fmt, node_id)
    return CaseRun(steps, answers, expected, actual)


async def replay_cases(
    names: tuple[str, ...], *, fmt: str, node_id: str, scale: float
) -> dict[str, CaseRun | BaseException]:
    """Every case at once, each with its own simulator and gateway: the
    recorded waitevent timeouts then overlap instead of adding up."""
    results = await asyncio.gather(
        *(replay_case(name, fmt=fmt, node_id=node_id, scale=scale) for name in names),
        return_exceptions=True,
    )
    return dict(zip(names, results, strict=True))
