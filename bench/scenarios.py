"""The three scenarios: rtt, fanout and sessions; each returns one JSON-able dict."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Final

from prometheus_client.parser import text_string_to_metric_families

from bench.amiresponder import AmiResponder
from bench.client import BenchError, Target, client_session, login_many
from bench.harness import Options, Server, Worker, gateway, server, workers
from bench.load import drive
from bench.procstat import Sample
from bench.stats import hist_percentile_ms, merge

PING: Final = "action=ping"
SYNC_TIMEOUT: Final = 120.0
"""Every session has seen the sync marker by then, or the run is broken."""
DRAIN_TIMEOUT: Final = 120.0
HELD_POLL_TIMEOUT: Final = 600.0
"""waitevent timeout= of the sessions scenario: the polls stay held."""
FANOUT_POLL_TIMEOUT: Final = 30.0
SETTLE: Final = 1.0
"""Seconds to let the server settle before sampling its memory."""
IDLE_WINDOW: Final = 0.5
IDLE_SHARE: Final = 0.05
"""The server counts as idle below 5% of a core over half a second."""

Result = dict[str, Any]


def _cpu(before: Sample, after: Sample) -> float:
    return round(after.cpu - before.cpu, 3)


async def _check_pings(target: Target, cookies: list[str]) -> None:
    """Every pooled session answers a real Pong before any load runs."""
    async with client_session() as http:
        for cookie in cookies:
            async with http.get(target.url(PING), headers={"Cookie": cookie}) as resp:
                body = await resp.read()
            if b"Ping: Pong" not in body:
                raise BenchError(f"ping on a pooled session failed: {body[:200]!r}")


async def rtt(options: Options, levels: list[int], seconds: float) -> list[Result]:
    """``rawman?action=ping`` against the gateway and a bare aiohttp handler."""
    results: list[Result] = []
    pool = max(levels)
    async with gateway(options, "rtt") as (gw, _ami), server(_bare_args(options)) as bare:
        async with client_session() as http:
            cookies = await login_many(http, gw.target, pool)
        await _check_pings(gw.target, cookies)
        for concurrency in levels:
            line: Result = {"scenario": "rtt", "concurrency": concurrency, "pool": pool}
            for name, srv in (("gateway", gw), ("bare", bare)):
                before = srv.sample()
                stats = await drive(srv.target, PING, cookies, concurrency, seconds)
                after = srv.sample()
                stats["server_cpu_s"] = _cpu(before, after)
                stats["server_rss_kb"] = after.rss_kb
                line[name] = stats
            bare_rate = line["bare"]["req_s"]
            line["ratio"] = round(line["gateway"]["req_s"] / bare_rate, 3) if bare_rate else None
            results.append(line)
    return results


def _bare_args(options: Options) -> list[str]:
    return ["bare", "--uvloop"] if options.uvloop else ["bare"]


@dataclass(frozen=True, slots=True)
class Fanout:
    sessions: int
    rate: float
    seconds: float
    kind: str = "poll"
    """How sessions get events: ``poll`` (waitevent), ``sse`` or ``ws`` (push
    streams), ``ami`` (AMI door clients, ``bench.amidoor``)."""
    scenario: str = "fanout"
    """``push``: one of issue 14's interleaved runs, polls and streams alike;
    ``ami_fanout``: issue 13's AMI door clients."""


async def _logged_in(pool: list[Worker]) -> int:
    counts = await asyncio.gather(*(w.expect("logged_in") for w in pool))
    return sum(int(c) for c in counts)


async def _sync(pool: list[Worker], ami: AmiResponder) -> None:
    for worker in pool:
        worker.send("go")
    ami.mark("BenchSync")
    async with asyncio.timeout(SYNC_TIMEOUT):
        await asyncio.gather(*(w.expect("synced") for w in pool))


async def _results(pool: list[Worker]) -> list[Result]:
    async with asyncio.timeout(DRAIN_TIMEOUT):
        return list(await asyncio.gather(*(w.result() for w in pool)))


async def fanout(options: Options, run: Fanout) -> Result:
    name = f"fanout-{run.kind}-{run.sessions}x{run.rate:g}"
    async with (
        gateway(options, name) as (gw, ami),
        workers(gw.target, run.sessions, FANOUT_POLL_TIMEOUT, options, run.kind) as pool,
    ):
        line = await measure_fanout(gw, ami, pool, run)
        inside = await server_delivery(gw, run.kind)
    return {**line, **inside}


async def measure_fanout(gw: Server, ami: AmiResponder, pool: list[Worker], run: Fanout) -> Result:
    """Log in, sync, stream, stop: the fanout line of workers of any kind
    (pollers, streamers, AMI door clients)."""
    await _logged_in(pool)
    await _sync(pool, ami)
    before = gw.sample()
    started = time.monotonic()
    emitted = await ami.stream(run.rate, run.seconds)
    ami.mark("BenchStop")
    parts = await _results(pool)
    elapsed = time.monotonic() - started
    after = gw.sample()
    return _fanout_line(run, emitted, parts, _cpu(before, after), elapsed, after)


DELIVERY_METRIC: Final = {
    "poll": "ajam_event_delivery_seconds",
    "sse": "ajam_push_delivery_seconds",
}
"""The gateway's own view: a poll answer's oldest event's age when the answer
is made; a push batch's age when the pass over every stream has written it."""


async def server_delivery(gw: Server, kind: str) -> Result:
    """The share of answers (polls) or batches (push) the gateway made within
    1, 5 and 100 ms of the event's arrival, from its own histogram: the part
    of the latency spent inside the server process."""
    name = DELIVERY_METRIC.get(kind, DELIVERY_METRIC["sse"])
    url = f"http://127.0.0.1:{gw.port}/metrics"
    async with client_session() as http, http.get(url) as response:
        text = await response.text()
    buckets: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == f"{name}_bucket":
                buckets[sample.labels["le"]] = sample.value
    total = buckets.get("+Inf", 0.0) or 1.0
    return {
        f"server_within_{ms}ms": round(buckets.get(le, 0.0) / total, 4)
        for ms, le in (("1", "0.001"), ("5", "0.005"), ("100", "0.1"))
    }


def _sum(parts: list[Result], key: str) -> int:
    return sum(int(p[key]) for p in parts)


def _fanout_line(
    run: Fanout, emitted: int, parts: list[Result], cpu: float, elapsed: float, after: Sample
) -> Result:
    hist = merge(p["hist"] for p in parts)
    delivered = _sum(parts, "delivered")
    expected = emitted * run.sessions
    return {
        "scenario": run.scenario,
        "kind": run.kind,
        "sessions": run.sessions,
        "rate": run.rate,
        "seconds": run.seconds,
        "workers": len(parts),
        "expected": expected,
        "delivered": delivered,
        "lost": expected - delivered,
        "duplicates": _sum(parts, "duplicates"),
        "errors": _sum(parts, "errors"),
        "error_samples": [s for p in parts for s in p["error_samples"]][:5],
        "p50_ms": hist_percentile_ms(hist, 0.50),
        "p99_ms": hist_percentile_ms(hist, 0.99),
        "max_ms": round(max(float(p["max_s"]) for p in parts) * 1000, 3),
        "polls": _sum(parts, "polls"),
        "events_per_poll": round(delivered / max(1, _sum(parts, "polls")), 2),
        "server_cpu_s": cpu,
        "server_cpu_share": round(cpu / elapsed, 3),
        "cpu_us_per_event": round(cpu * 1e6 / delivered, 2) if delivered else None,
        "cpu_us_per_poll": round(cpu * 1e6 / max(1, _sum(parts, "polls")), 1),
        "server_rss_kb": after.rss_kb,
        "client_cpu_s": round(sum(float(p["cpu_s"]) for p in parts), 2),
    }


async def _held(gw: Server, base_fds: int, sessions: int, limit: float) -> Sample:
    """Wait until the server holds a socket per session and has gone idle
    (every poll parsed and waiting), then let its memory settle."""
    deadline = time.monotonic() + limit
    current = gw.sample()
    while current.fds < base_fds + sessions and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        current = gw.sample()
    while time.monotonic() < deadline:
        await asyncio.sleep(IDLE_WINDOW)
        previous, current = current, gw.sample()
        if current.cpu - previous.cpu < IDLE_WINDOW * IDLE_SHARE:
            break
    await asyncio.sleep(SETTLE)
    return gw.sample()


async def sessions(options: Options, count: int) -> Result:
    """``count`` logged-in sessions, each with one held waitevent."""
    async with gateway(options, f"sessions-{count}") as (gw, ami):
        await asyncio.sleep(SETTLE)
        base = gw.sample()
        async with workers(gw.target, count, HELD_POLL_TIMEOUT, options) as pool:
            logged = await _logged_in(pool)
            await asyncio.sleep(SETTLE)
            after_login = gw.sample()
            for worker in pool:
                worker.send("go")
            held = await _held(gw, base.fds, count, SYNC_TIMEOUT)
            stop = time.monotonic()
            ami.mark("BenchStop")
            parts = await _results(pool)
            answer_s = time.monotonic() - stop
            after = gw.sample()
    stopped = _sum(parts, "stopped")
    return {
        "scenario": "sessions",
        "sessions": count,
        "workers": len(parts),
        "logged_in": logged,
        "held_polls": held.fds - base.fds,
        "answered": stopped,
        "errors": _sum(parts, "errors") + (count - stopped),
        "error_samples": [s for p in parts for s in p["error_samples"]][:5],
        "rss_base_kb": base.rss_kb,
        "rss_logged_in_kb": after_login.rss_kb,
        "rss_held_kb": held.rss_kb,
        "kb_per_session": round((after_login.rss_kb - base.rss_kb) / count, 2),
        "kb_per_held_poll": round((held.rss_kb - base.rss_kb) / count, 2),
        "kb_poll_increment": round((held.rss_kb - after_login.rss_kb) / count, 2),
        "server_cpu_s": _cpu(base, held),
        "answer_all_s": round(answer_s, 3),
        "answer_cpu_s": _cpu(held, after),
    }
