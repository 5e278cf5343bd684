"""Benchmark: what a one-shot HTTP Basic request costs with ``secret_hash``.

    python3 bench/basic_bench.py [--requests 40]

Starts the gateway (``bench.server``, the real app) against the lean AMI
responder twice: with the login cache as shipped (``login_cache_ttl`` 60 s)
and turned off (0).  A user with a scrypt ``secret_hash`` (the parameters
``ajam-gateway hash-secret`` writes) sends ``--requests`` one-shot
``action=ping`` requests with Basic, one at a time, as the 1C module's
pattern does; the gateway process's CPU (utime + stime, from /proc, its
hash threads included) is read around them: milliseconds a request, and
requests a second.

Issue 11, item 13; results in bench/README.md.  Run from the repository root.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
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
from gateway.access.credentials import hash_secret

SECRET = "crm-bench-secret"


def toml(ami_port: int, ttl: float) -> str:
    base = gateway_toml(ami_port).replace("[limits]\n", f"[limits]\nlogin_cache_ttl = {ttl}\n")
    return base + f'\n[users.crm]\nsecret_hash = "{hash_secret(SECRET)}"\nwrite = "all"\n'


@contextlib.asynccontextmanager
async def gateway(ttl: float) -> AsyncIterator[Server]:
    ami = AmiResponder()
    ami_port = await ami.start()
    try:
        with tempfile.TemporaryDirectory(prefix="ajam-basic-bench-") as tmp:
            config = write_file(Path(tmp, "gateway.toml"), toml(ami_port, ttl))
            async with server(["gateway", str(config)]) as srv:
                await wait_ready(srv, ami)
                yield srv
    finally:
        await ami.stop()


async def one_shot_pings(srv: Server, requests: int) -> dict[str, float]:
    url = f"http://127.0.0.1:{srv.port}{PREFIX}/rawman"
    token = base64.b64encode(f"crm:{SECRET}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        before, began = cpu_seconds(srv.pid), time.monotonic()
        for _ in range(requests):
            async with http.get(url, params={"action": "ping"}, headers=headers) as resp:
                assert "Pong" in await resp.text()
        spent, took = cpu_seconds(srv.pid) - before, time.monotonic() - began
    return {
        "cpu_ms_per_request": round(1000 * spent / requests, 2),
        "requests_per_second": round(requests / took, 1),
    }


async def main(requests: int) -> None:
    for ttl in (60.0, 0.0):
        async with gateway(ttl) as srv:
            result = {"login_cache_ttl": ttl, "requests": requests}
            result.update(await one_shot_pings(srv, requests))
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="basic_bench")
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(main(args.requests))
