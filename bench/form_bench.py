"""Benchmark: what a hostile request costs the gateway before authentication.

    python3 bench/form_bench.py [--requests 20] [--seconds 5]

Starts the gateway (``bench.server``, the real app) against the lean AMI
responder, then, anonymously, sends each hostile shape ``--requests`` times,
one at a time, and reads the gateway process's CPU (utime + stime, from
/proc) around them: milliseconds of the gateway's one event loop per
request.  Then three clients send the 1 MiB ``a&a&…`` body in a loop for
``--seconds`` while a logged-in client pings: its p50/p99 in milliseconds
(issue 11, item 8: a Ping went from 2 ms to a 1.7 s median).

Issue 11, item 8; results in bench/README.md.  Run from the repository root.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.amiresponder import AmiResponder
from bench.harness import PREFIX, Server, gateway_toml, server, wait_ready, write_file
from bench.procstat import cpu_seconds

MIB = 1 << 20
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}

SHAPES: dict[str, tuple[str, str, bytes, dict[str, str]]] = {
    # name: (method, path and query, body, headers)
    "rawman GET action=ping (baseline)": ("GET", "/rawman?action=ping", b"", {}),
    "rawman POST 1 MiB a&a&…": ("POST", "/rawman", b"a&" * (MIB // 2), FORM),
    "rawman POST 1 MiB &&&…": ("POST", "/rawman", b"&" * MIB, FORM),
    "rawman POST a=%41… (1 MiB value)": ("POST", "/rawman", b"a=" + b"%41" * (MIB // 3 - 1), FORM),
    "rawman GET 64 KiB query a&a&…": ("GET", "/rawman?" + "a&" * 32767, b"", {}),
    "history POST form 1 MiB a&a&…": ("POST", "/history", b"a&" * (MIB // 2), FORM),
    "history GET 64 KiB query a&a&…": ("GET", "/history?" + "a&" * 32767, b"", {}),
    "history POST JSON 1 MiB object": (
        "POST",
        "/history",
        b'{"' + b'a":1,"'.join(b"k%d" % n for n in range(80_000)) + b'":1}',
        JSON,
    ),
}


def toml(ami_port: int, history: Path) -> str:
    return gateway_toml(ami_port) + f'\n[history]\nenabled = true\npath = "{history}"\n'


@contextlib.asynccontextmanager
async def gateway() -> AsyncIterator[Server]:
    ami = AmiResponder()
    ami_port = await ami.start()
    try:
        with tempfile.TemporaryDirectory(prefix="ajam-form-bench-") as tmp:
            config = write_file(Path(tmp, "gateway.toml"), toml(ami_port, Path(tmp, "h.sqlite3")))
            async with server(["gateway", str(config)]) as srv:
                await wait_ready(srv, ami)
                yield srv
    finally:
        await ami.stop()


async def send(http: aiohttp.ClientSession, base: str, shape: str) -> int:
    method, target, body, headers = SHAPES[shape]
    async with http.request(method, base + target, data=body or None, headers=headers) as resp:
        await resp.read()
        return resp.status


async def cpu_per_request(srv: Server, shape: str, requests: int) -> dict[str, object]:
    base = f"http://127.0.0.1:{srv.port}{PREFIX}"
    async with aiohttp.ClientSession() as http:
        status = await send(http, base, shape)  # warm up (and check it is answered)
        before = cpu_seconds(srv.pid)
        for _ in range(requests):
            await send(http, base, shape)
        spent = cpu_seconds(srv.pid) - before
    return {"shape": shape, "status": status, "cpu_ms_per_request": 1000 * spent / requests}


async def ping_under_attack(srv: Server, seconds: float, attackers: int) -> dict[str, object]:
    base = f"http://127.0.0.1:{srv.port}{PREFIX}"
    stop = time.monotonic() + seconds

    async def attack() -> int:
        sent = 0
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < stop:
                await send(http, base, "rawman POST 1 MiB a&a&…")
                sent += 1
        return sent

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        login = {"action": "login", "username": "bench", "secret": "bench-secret"}
        async with http.get(base + "/rawman", params=login) as resp:
            assert "Authentication accepted" in await resp.text()
        tasks = [asyncio.create_task(attack()) for _ in range(attackers)]
        times = []
        while time.monotonic() < stop:
            began = time.monotonic()
            async with http.get(base + "/rawman", params={"action": "ping"}) as resp:
                assert "Pong" in await resp.text()
            times.append(1000 * (time.monotonic() - began))
            await asyncio.sleep(0.05)
        sent = sum(await asyncio.gather(*tasks))
    times.sort()
    return {
        "attackers": attackers,
        "attack_requests": sent,
        "pings": len(times),
        "ping_p50_ms": round(statistics.median(times), 2),
        "ping_p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
    }


async def main(requests: int, seconds: float) -> None:
    async with gateway() as srv:
        for shape in SHAPES:
            print(json.dumps(await cpu_per_request(srv, shape, requests)), flush=True)
        for attackers in (0, 3):
            print(json.dumps(await ping_under_attack(srv, seconds, attackers)), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="form_bench")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.seconds))
