"""The AMI door's scenarios: fanout to AMI clients, and a client that stops reading.

* ``ami_fanout``: S clients of the AMI door (``bench.amiclients`` processes)
  receive R stamped events per second for T seconds: every event must reach
  every client exactly once; latency is receipt minus the event's stamp.
* ``ami_stall``: the same stream of padded events, twice: with one reading
  client (the control), then with one more client that reads nothing at
  all.  The gateway's RSS peak in each run, the growth the stalled client
  adds (it must stay within the door's ``buffer_bytes`` plus allocator
  noise, not grow with the stream), and whether the gateway dropped it
  after ``write_timeout``.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Final

from bench.harness import Options, Server, Worker, gateway, worker_count
from bench.scenarios import Fanout, Result, _logged_in, _results, _sync, measure_fanout

STALL_WRITE_TIMEOUT: Final = 5.0
STALL_BUFFER: Final = 1024 * 1024
STALL_RING_BYTES: Final = 16 * 1024 * 1024
"""The ring is bounded small here, so that its own fill does not hide the
stalled client's cost (the ring holds events for everyone, stalled or not)."""
SAMPLE_EVERY: Final = 0.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def door_toml(port: int, *, write_timeout: float = 30.0) -> str:
    return f"""\
[ami_server]
enabled = true
host = "127.0.0.1"
port = {port}
write_timeout = {write_timeout}
buffer_bytes = {STALL_BUFFER}
max_unauthenticated = 100000

[log]
access = false

"""


async def _ami_workers(port: int, clients: int, stall: int = 0) -> list[Worker]:
    count = worker_count(clients)
    shares = [clients // count + (1 if i < clients % count else 0) for i in range(count)]
    stalls = [stall if i == 0 else 0 for i in range(count)]
    return [await Worker.start_ami(port, share, s) for share, s in zip(shares, stalls, strict=True)]


def _kill(pool: list[Worker]) -> None:
    for worker in pool:
        worker.kill()


async def ami_fanout(options: Options, run: Fanout) -> Result:
    port = free_port()
    name = f"ami-{run.sessions}x{run.rate:g}"
    async with gateway(options, name, door_toml(port)) as (gw, ami):
        pool = await _ami_workers(port, run.sessions)
        try:
            line = await measure_fanout(gw, ami, pool, run)
        finally:
            _kill(pool)
    line["scenario"] = "ami_fanout"
    del line["polls"], line["events_per_poll"], line["cpu_us_per_poll"]
    return line


@dataclass(frozen=True, slots=True)
class Stall:
    rate: float
    seconds: float
    padding: int


async def _peak_rss(gw: Server, stop: asyncio.Event) -> int:
    peak = gw.sample().rss_kb
    while not stop.is_set():
        await asyncio.sleep(SAMPLE_EVERY)
        peak = max(peak, gw.sample().rss_kb)
    return peak


async def _stall_run(options: Options, run: Stall, stalled: int) -> Result:
    port = free_port()
    toml = door_toml(port, write_timeout=STALL_WRITE_TIMEOUT)
    ring = f"ring_bytes = {STALL_RING_BYTES}"
    async with gateway(options, f"ami-stall-{stalled}", toml, ring) as (gw, ami):
        pool = await _ami_workers(port, 1, stalled)
        try:
            await _logged_in(pool)
            await _sync(pool, ami)
            base = gw.sample().rss_kb
            stop = asyncio.Event()
            sampler = asyncio.create_task(_peak_rss(gw, stop))
            emitted = await ami.stream(run.rate, run.seconds, run.padding)
            ami.mark("BenchStop")
            (part,) = await _results(pool)
            stop.set()
            peak = await sampler
        finally:
            _kill(pool)
    return {
        "emitted": emitted,
        "delivered": part["delivered"],
        "rss_base_kb": base,
        "rss_peak_kb": peak,
        "rss_growth_kb": peak - base,
        "stalled_dropped": part["stalled_dropped"],
    }


async def ami_stall(options: Options, run: Stall) -> Result:
    control = await _stall_run(options, run, 0)
    stalled = await _stall_run(options, run, 1)
    return {
        "scenario": "ami_stall",
        "rate": run.rate,
        "seconds": run.seconds,
        "event_bytes": run.padding,
        "stream_mb": round(run.rate * run.seconds * run.padding / 1e6, 1),
        "buffer_bytes": STALL_BUFFER,
        "write_timeout_s": STALL_WRITE_TIMEOUT,
        "control": control,
        "stalled": stalled,
        "extra_growth_kb": stalled["rss_growth_kb"] - control["rss_growth_kb"],
    }
