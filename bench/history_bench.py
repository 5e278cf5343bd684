"""Benchmark: /history lookups by number over 1,000,000 CDR rows in SQLite.

    python3 bench/history_bench.py [--rows 1000000] [--lookups 2000] [--db PATH]

Builds (or reuses) a store of ``--rows`` calls: 200,000 client numbers in
mixed spellings (+7 9xx…, 89xx…, 9xx…) calling 200 internal extensions and
being called back, over a year.  Then it times lookups by a random client
number (limit 20) at three levels: the store itself, the store through the
recorder's worker thread, and a full HTTP request to a running gateway
(Basic auth, JSON answer).  It prints p50/p95/p99/max in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import ClientSession, web

from gateway.app import create_app
from gateway.config import parse_config
from gateway.history.query import HistoryQuery
from gateway.history.record import CdrRecord
from gateway.history.recorder import Recorder
from gateway.history.settings import HistoryConfig
from gateway.history.sqlite_store import SqliteStore
from gateway.simulator import Simulator

CLIENTS = 200_000
YEAR = 365 * 86_400
T0 = 1_764_547_200  # 2025-12-01


def client_number(n: int, style: int) -> str:
    national = f"9{n:09d}"
    spelled = (f"+7 {national[:3]} {national[3:6]}-{national[6:8]}-{national[8:]}",
               f"8{national}", national, f"+7{national}")  # fmt: skip
    return spelled[style % 4]


def calls(rows: int, rng: random.Random) -> Iterator[CdrRecord]:
    for i in range(rows):
        client = client_number(rng.randrange(CLIENTS), i)
        ext = str(100 + rng.randrange(200))
        src, dst = (client, ext) if i % 3 else (ext, client)
        start = T0 + rng.randrange(YEAR)
        answered = rng.random() < 0.7
        yield CdrRecord(
            start, start + 3 if answered else None, start + 60, 60, 57 if answered else 0,
            clid=f'"" <{src}>', src=src, dst=dst, dcontext="from-trunk",
            channel=f"PJSIP/trunk-{i:08x}", lastapp="Dial",
            disposition="ANSWERED" if answered else "NO ANSWER",
            amaflags="DOCUMENTATION", uniqueid=f"{start}.{i}",
        )  # fmt: skip


def build(config: HistoryConfig, rows: int) -> None:
    store = SqliteStore(config)
    have = store.count()
    if have >= rows:
        print(f"reusing {have:,} rows in {config.path}")
        store.close()
        return
    rng = random.Random(7)
    began = time.perf_counter()
    batch: list[CdrRecord] = []
    for record in calls(rows - have, rng):
        batch.append(record)
        if len(batch) == 50_000:
            store.insert(batch)
            batch.clear()
    store.insert(batch)
    print(f"inserted {rows - have:,} rows in {time.perf_counter() - began:.1f} s")
    store.close()


def report(name: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p = statistics.quantiles(ms, n=100)
    print(f"{name:<28} n={len(ms):<5} p50={p[49]:6.2f} p95={p[94]:6.2f} "
          f"p99={p[98]:6.2f} max={ms[-1]:6.2f} ms")  # fmt: skip


async def timed(lookups: list[str], once: Callable[[str], Awaitable[object]]) -> list[float]:
    samples = []
    for number in lookups:
        began = time.perf_counter()
        await once(number)
        samples.append(time.perf_counter() - began)
    return samples


async def over_http(path: str, lookups: list[str]) -> list[float]:
    sim = Simulator()
    await sim.start()
    config = parse_config({
        "ami": {"port": sim.port, "username": "admin", "secret": "admin-secret"},
        "http": {"port": 0},
        "history": {"enabled": True, "path": path},
        "users": {"crm": {"secret": "crm-secret", "read": "cdr"}},
    }, {})  # fmt: skip
    runner = web.AppRunner(create_app(config))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    auth = {"Authorization": "Basic " + base64.b64encode(b"crm:crm-secret").decode()}
    url = f"http://127.0.0.1:{port}/asterisk/history"
    try:
        async with ClientSession() as http:

            async def once(number: str) -> object:
                async with http.post(url, json={"number": number}, headers=auth) as answer:
                    assert answer.status == 200, await answer.text()
                    return await answer.json()

            await timed(lookups[:50], once)  # warm the connection and the page cache
            return await timed(lookups, once)
    finally:
        await runner.cleanup()
        await sim.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--db", default="/tmp/ajam-history-bench.sqlite3")
    args = parser.parse_args()
    config = HistoryConfig(enabled=True, path=args.db)
    build(config, args.rows)
    rng = random.Random(11)
    lookups = [client_number(rng.randrange(CLIENTS), rng.randrange(4)) for _ in range(args.lookups)]
    store = SqliteStore(config)
    report("store.query", await timed(lookups, lambda n: _sync(store, n)))
    store.close()
    recorder = Recorder(config)
    await recorder.start()
    report("recorder (worker thread)", await timed(lookups, lambda n: recorder.query(_q(n))))
    report("busy extension", await timed([str(100 + i % 200) for i in range(500)],
                                         lambda n: recorder.query(_q(n))))  # fmt: skip
    await recorder.close()
    report("HTTP POST /history", await over_http(args.db, lookups))


def _q(number: str) -> HistoryQuery:
    return HistoryQuery(limit=20, number=number)


async def _sync(store: SqliteStore, number: str) -> object:
    return store.query(_q(number))


if __name__ == "__main__":
    asyncio.run(main())
