"""Replaying a captured AMI session against the simulator.

Each ``ami/<case>.sent`` chunk is written at its captured time (scaled by
the simulator's ``time_scale``), over a real loopback socket, and everything
the simulator answers is collected until the captured end of the case.  A
simulator on a ``ManualClock`` fires its call timers only when the replay
reaches their time, and each step waits until what came before it has been
read, so that a loaded machine cannot reorder or cut the stream.
Values the capture could not know in advance are rewritten on the way: the
Local channel sequence numbers the simulator chose, and the MD5 ``Key``
computed from the server's own challenge.

The server replayed against is a ``Target``: the simulator itself, or the
gateway's AMI door in front of it (tests/amiserver/test_replay.py), whose
client must be caught up with what the simulator wrote upstream (an AMI
round trip through the gateway) and then with what the door wrote to it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

from gateway.simulator import DEFAULT_USERS, Simulator
from gateway.simulator.channels import ManualClock
from gateway.tasks import cancel_and_wait
from tests.support.amimask import (
    broadcast_part,
    channel_histories,
    local_sequences,
    mask_bytes,
    masked,
    parse_stream,
    session_part,
)
from tests.support.fixturedata import AMI_DIR, ami_recv, ami_sent
from tests.support.harness import until
from tests.support.replay_clock import SETTLE_TURNS, turns
from tests.support.simclient import connect

Hook = Callable[[Simulator], Awaitable[None]]

EOF_WAIT = 5.0
"""Generous bound for a server-side close the capture shows."""


class Target(Protocol):
    """The AMI server a replay's client talks to."""

    @property
    def port(self) -> int: ...

    def written_to(self, address: str) -> int:
        """Bytes written so far to the client at ``IPV4/TCP/<host>/<port>``."""
        ...

    async def settle(self) -> None:
        """Until what the simulator wrote has reached this server's writer."""
        ...


@dataclass(frozen=True, slots=True)
class SimTarget:
    """The simulator itself: what it writes goes straight to the client."""

    sim: Simulator

    @property
    def port(self) -> int:
        return self.sim.port

    def written_to(self, address: str) -> int:
        return self.sim.written_to(address)

    async def settle(self) -> None:
        return None


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


async def _caught_up(
    sim: Simulator, target: Target, t: float, address: str, received: bytearray
) -> None:
    """Until the timers due by ``t`` have fired (a ``ManualClock`` moves only
    here) and every byte the server wrote to us has been read: a loaded
    machine then changes nothing in what arrives before the next step."""
    clock = sim.clock
    while isinstance(clock, ManualClock) and clock.wake_next(t):
        await _delivered(target, address, received)
    await _delivered(target, address, received)


async def _delivered(target: Target, address: str, received: bytearray) -> None:
    await turns(SETTLE_TURNS)
    await target.settle()
    await _until(lambda: len(received) >= target.written_to(address))
    await turns(SETTLE_TURNS)


async def replay(sim: Simulator, case: Case, target: Target | None = None) -> bytes:
    """Everything the server (the simulator, unless ``target``) wrote on the
    case's connection."""
    server = SimTarget(sim) if target is None else target
    scale = sim.clock.scale
    loop = asyncio.get_running_loop()
    capture_ids = local_sequences(ami_recv(case.name))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
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
        await _caught_up(sim, server, t, address, received)
        if isinstance(what, Step):
            if b"Key: " in what.data:
                await _until(lambda: b"Challenge: " in received)
            writer.write(_rewrite(what.data, capture_ids, bytes(received)))
        else:
            await what(sim)
    try:
        if case.server_closes:
            await _caught_up(sim, server, case.end, address, received)
            async with asyncio.timeout(EOF_WAIT):
                await asyncio.shield(collector)
        else:
            await asyncio.sleep(max(start + case.end * scale - loop.time(), 0))
            await _caught_up(sim, server, case.end, address, received)
    finally:
        await cancel_and_wait(collector)
        writer.close()
    return bytes(received)


# -- the captured cases, how each is compared, and what happens around them ----

EXACT: Final = frozenset(
    {
        "action_case_insensitive",
        "banner_login_ok",
        "challenge_md5_login",
        "command_core_show_version",
        "command_error",
        "command_multiline",
        "coreshowchannels_empty",
        "crlf_userevent_from_ajam",
        "listcommands",
        "login_fail",
        "logoff",
        "overlong_line",
        "permission_denied_reader",
        "ping",
        "queuestatus",
        "queuesummary",
        "shutdown_event",
        "unknown_action",
        "userevent_action",
    }
)
CALLS: Final = frozenset(
    {
        "coreshowchannels_two",
        "dialplan_userevent",
        "events_off_on",
        "filter_action",
        "getvar_setvar",
        "long_variable",
        "originate_async_events",
        "originate_sync",
        "status_list",
        "utf8_callerid",
    }
)
NAMES_ONLY: Final = frozenset({"hangup_regex_list"})

INJECTED: Final = (
    ("Event", "UserEvent"),
    ("Privilege", "user,all"),
    ("UserEvent", "Inj"),
    ("header1", "x\r\nAction: Ping\r\n\r\nAction: Logoff"),
)
"""What an AJAM client made Asterisk broadcast in crlf_userevent_from_ajam."""


async def _second_login(server_sim: Simulator) -> None:
    """The AJAM login of crlf_userevent_from_ajam, made over a second socket."""
    client = await connect(server_sim)
    client.close()


async def _inject(server_sim: Simulator) -> None:
    server_sim.emit(INJECTED)


async def _restart(server_sim: Simulator) -> None:
    await server_sim.shutdown(restart=True)


HOOKS: Final[dict[str, tuple[tuple[float, Hook], ...]]] = {
    "crlf_userevent_from_ajam": ((0.8042, _second_login), (1.3066, _inject)),
    "shutdown_event": ((0.808, _restart),),
}


def compare_replay(case: str, data: bytes, expected: bytes) -> None:
    """What a replay of ``case`` wrote against what the capture shows, as
    strictly as the case allows (EXACT, CALLS, NAMES_ONLY: see
    tests/simulator/test_server.py)."""
    if case in EXACT:
        assert mask_bytes(data) == mask_bytes(expected)
        return
    got = masked(parse_stream(data))
    want = masked(parse_stream(expected))
    if case in CALLS:
        assert session_part(got) == session_part(want)
        assert broadcast_part(got) == broadcast_part(want)
        assert channel_histories(got) == channel_histories(want)
    else:
        assert Counter(session_part(got)) == Counter(session_part(want))
        assert Counter(m.name for m in got) == Counter(m.name for m in want)
