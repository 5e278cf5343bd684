"""Replaying a captured AMI session against the simulator.

Each ``ami/<case>.sent`` chunk is written at its captured time (scaled by
the simulator's ``time_scale``), over a real loopback socket, and everything
the simulator answers is collected until the captured end of the case.  A
simulator on a ``ManualClock`` fires its call timers only when the replay
reaches their time, and each step waits until what came before it has been
read, so that a loaded machine cannot reorder or cut the stream.
Values the capture could not know in advance are rewritten on the way: the
Local channel sequence numbers the simulator chose, and the MD5 ``Key``
computed from the simulator's own challenge.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from gateway.simulator import DEFAULT_USERS, Simulator
from gateway.simulator.channels import ManualClock
from gateway.tasks import cancel_and_wait
from tests.support.amimask import local_sequences
from tests.support.fixturedata import AMI_DIR, ami_recv, ami_sent
from tests.support.harness import until
from tests.support.replay_clock import SETTLE_TURNS, turns

Hook = Callable[[Simulator], Awaitable[None]]

EOF_WAIT = 5.0
"""Generous bound for a server-side close the capture shows."""


@dataclass(frozen=True, slots=True)
class Step:
    t: float
    data: bytes


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    steps: tuple[Step, ...]
    end: float
    server_closes: bool
    hooks: tuple[tuple[float, Hook], ...] = field(default=())


def load_case(name: str, hooks: Mapping[str, tuple[tuple[float, Hook], ...]]) -> Case:
    timeline = json.loads((AMI_DIR / f"{name}.timeline.json").read_text())
    sent = ami_sent(name)
    steps = tuple(
        Step(e["t"], sent[e["offset"] : e["offset"] + e["len"]])
        for e in timeline["timeline"]
        if e["dir"] == "sent"
    )
    closes = any(e["dir"] == "server_eof" for e in timeline["timeline"])
    end = max(e["t"] for e in timeline["timeline"])
    return Case(
        name, steps, end, closes or timeline.get("closed_by") == "server", hooks.get(name, ())
    )


def _rewrite(data: bytes, capture_ids: list[str], received: bytes) -> bytes:
    for old, new in zip(capture_ids, local_sequences(received), strict=False):
        data = data.replace(f"-{old};".encode(), f"-{new};".encode())
    challenge = re.search(rb"Challenge: (\d+)", received)
    user = re.search(rb"Username: (\S+)", data)
    if challenge and user and b"Key: " in data:
        secret = DEFAULT_USERS[user.group(1).decode()].secret
        key = hashlib.md5(challenge.group(1) + secret.encode()).hexdigest()
        data = re.sub(rb"Key: [0-9a-f]+", f"Key: {key}".encode(), data)
    return data


async def _until(condition: Callable[[], bool]) -> None:
    """The capture wrote the next step after this arrived; so must the replay."""
    await until(condition, EOF_WAIT, interval=0.001)


async def _caught_up(sim: Simulator, t: float, address: str, received: bytearray) -> None:
    """Until the timers due by ``t`` have fired (a ``ManualClock`` moves only
    here) and every byte the simulator wrote to us has been read: a loaded
    machine then changes nothing in what arrives before the next step."""
    clock = sim.clock
    while isinstance(clock, ManualClock) and clock.wake_next(t):
        await _delivered(sim, address, received)
    await _delivered(sim, address, received)


async def _delivered(sim: Simulator, address: str, received: bytearray) -> None:
    await turns(SETTLE_TURNS)
    await _until(lambda: len(received) >= sim.written_to(address))
    await turns(SETTLE_TURNS)


async def replay(sim: Simulator, case: Case) -> bytes:
    """Everything the simulator wrote on the case's connection."""
    scale = sim.clock.scale
    loop = asyncio.get_running_loop()
    capture_ids = local_sequences(ami_recv(case.name))
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    host, port = writer.get_extra_info("sockname")[:2]
    address = f"IPV4/TCP/{host}/{port}"
    received = bytearray()

    async def collect() -> None:
        while chunk := await reader.read(65536):
            received.extend(chunk)

    collector = loop.create_task(collect())
    start = loop.time()
    timed: list[tuple[float, Step | Hook]] = [(s.t, s) for s in case.steps]
    timed += list(case.hooks)
    for t, what in sorted(timed, key=lambda pair: pair[0]):
        await asyncio.sleep(max(start + t * scale - loop.time(), 0))
        await _caught_up(sim, t, address, received)
        if isinstance(what, Step):
            if b"Key: " in what.data:
                await _until(lambda: b"Challenge: " in received)
            writer.write(_rewrite(what.data, capture_ids, bytes(received)))
        else:
            await what(sim)
    try:
        if case.server_closes:
            await _caught_up(sim, case.end, address, received)
            async with asyncio.timeout(EOF_WAIT):
                await asyncio.shield(collector)
        else:
            await asyncio.sleep(max(start + case.end * scale - loop.time(), 0))
            await _caught_up(sim, case.end, address, received)
    finally:
        await cancel_and_wait(collector)
        writer.close()
    return bytes(received)
