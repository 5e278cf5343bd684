"""Clients that read late or not at all: bounded memory, resume, loss, close.

The client sockets have a 4 KiB receive buffer and are not read while the
simulator emits megabytes of events, so the gateway's socket fills and the
stream's transport starts to hold bytes: the part ``[push] buffer_bytes``
bounds.
"""

from __future__ import annotations

import asyncio
import itertools

from aiohttp import web

from gateway.app import GATEWAY
from gateway.push.stream import CloseReason, StreamKind
from gateway.simulator import Simulator
from tests.support.harness import until, user_event
from tests.support.pushclient import EVENTS, Serve, cookie, login
from tests.support.sseclient import SseClient

BOUND = 16_384
PAYLOAD = "x" * 2000
FLOOD = 1000
"""2 MB of events: far more than the socket buffers (the stream caps its own)."""


async def flood(app: web.Application, simulator: Simulator, count: int = FLOOD) -> int:
    """Emit ``count`` big events; returns the highest bytes any stream's
    transport held meanwhile (sampled every loop iteration)."""
    gateway = app[GATEWAY]
    log = gateway.log
    last = f"F{count - 1}"
    for n in range(count):
        simulator.emit(user_event(f"F{n}", Pad=PAYLOAD))
    highest = 0
    async with asyncio.timeout(30):
        while (newest := log.get(log.last_seq)) is None or newest.message.get("UserEvent") != last:
            highest = max(highest, gateway.push.queued_bytes)
            await asyncio.sleep(0)
    return highest


async def silent_stream(base: str, session: str) -> SseClient:
    stream = await SseClient.open(base, f"{EVENTS}?events=UserEvent", cookie(session), rcvbuf=4096)
    await asyncio.sleep(0.2)  # the request is in and the stream open
    return stream


async def test_a_client_that_reads_nothing_is_bounded_then_closed(
    serve: Serve, simulator: Simulator
) -> None:
    app, base = await serve(push={"buffer_bytes": BOUND, "write_timeout": 0.5, "heartbeat": 60})
    gateway = app[GATEWAY]
    stream = await silent_stream(base, await login(base))
    highest = await flood(app, simulator)
    assert gateway.push.counts.lagged >= 1
    # the bound, plus at most one write made while under it (a bound of AMI bytes)
    assert highest <= 3 * BOUND, highest
    closed = gateway.push.counts.kinds[StreamKind.SSE].closed
    await until(lambda: closed[CloseReason.WRITE_TIMEOUT] == 1, timeout=10)
    assert gateway.push.queued_bytes == 0
    assert gateway.send_budget.used == 0  # its share given back
    await stream.close()


async def test_a_late_reader_gets_everything_in_order_once_it_reads(
    serve: Serve, simulator: Simulator
) -> None:
    app, base = await serve(push={"buffer_bytes": BOUND, "write_timeout": 30})
    stream = await silent_stream(base, await login(base))
    await flood(app, simulator)
    assert app[GATEWAY].push.counts.lagged >= 1
    await stream.read_head()
    await stream.next()  # the opening
    got = await stream.events(FLOOD, timeout=30)
    assert [m.json["UserEvent"] for m in got] == [f"F{n}" for n in range(FLOOD)]
    ids = [int(m.id or 0) for m in got]
    log = app[GATEWAY].log
    assert ids[1:] == [event.seq for event in log.since(ids[0])[1]]  # each event's own seq
    await stream.close()


async def test_a_reader_that_fell_behind_the_ring_is_told_what_it_lost(
    serve: Serve, simulator: Simulator
) -> None:
    app, base = await serve(push={"buffer_bytes": BOUND}, events={"ring_size": 500})
    stream = await silent_stream(base, await login(base))
    await flood(app, simulator)
    await stream.read_head()
    await stream.next()
    seen: list[int] = []
    lost = 0
    while len(seen) + lost < FLOOD:
        (message,) = await stream.events(1, timeout=30)
        if message.event == "GatewayEventsLost":
            lost += int(message.json["Lost"])
        else:
            seen.append(int(message.json["UserEvent"][1:]))
    assert lost > 0
    assert all(a < b for a, b in itertools.pairwise(seen))  # in order, never twice
    assert len(seen) + lost == FLOOD
    assert seen[-1] == FLOOD - 1
    assert app[GATEWAY].push.counts.lost == lost
    await stream.close()
