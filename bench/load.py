"""Request load for the rtt scenario: wrk when installed, else a Python client.

wrk cannot pin a session to a connection, so its Lua script rotates over a
pool of logged-in session cookies, one per request.  The Python fallback
keeps the scenario runnable (CI without wrk); its numbers measure the client
as much as the server and are labelled ``"driver": "python"``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import aiohttp

from bench.client import Target, client_session
from bench.harness import write_file
from bench.stats import percentile

WRK_SCRIPT: Final = """\
cookies = {%(cookies)s}
path = %(path)s
local threads = 0
function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end
function init(args)
  i = offset or 0
end
function request()
  i = i + 1
  return wrk.format("GET", path, {["Cookie"] = cookies[(i %% #cookies) + 1]})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,"max_us":%%d,' ..
    '"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a valid Lua string literal


def wrk_script(cookies: list[str], path: str) -> str:
    listed = ", ".join(_lua_string(c) for c in cookies)
    return WRK_SCRIPT % {"cookies": listed, "path": _lua_string(path)}


async def run_wrk(
    target: Target, query: str, cookies: list[str], concurrency: int, seconds: float
) -> dict[str, Any]:
    url = target.url(query)
    with tempfile.TemporaryDirectory(prefix="ajam-wrk-") as tmp:
        script = write_file(Path(tmp, "rotate.lua"), wrk_script(cookies, url.path_qs))
        threads = min(2, concurrency)
        process = await asyncio.create_subprocess_exec(
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://{url.host}:{url.port}/",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
    for line in out.decode().splitlines():
        if line.startswith("WRKJSON "):
            raw = json.loads(line[len("WRKJSON ") :])
            return _summary("wrk", raw["requests"], raw["duration_us"] / 1e6, raw, 1e-3)
    raise RuntimeError(f"wrk failed: {err.decode()[-300:]}")


def _summary(
    driver: str, requests: int, seconds: float, raw: dict[str, int], to_ms: float
) -> dict[str, Any]:
    errors = sum(raw.get(k, 0) for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "driver": driver,
        "requests": requests,
        "req_s": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": round(raw["p50_us"] * to_ms, 3),
        "p99_ms": round(raw["p99_us"] * to_ms, 3),
        "max_ms": round(raw["max_us"] * to_ms, 3),
        "errors": errors,
        "error_kinds": {k: raw[k] for k in ("connect", "read", "write", "status", "timeout")},
    }


async def run_python(
    target: Target, query: str, cookies: list[str], concurrency: int, seconds: float
) -> dict[str, Any]:
    url = target.url(query)
    latencies: list[float] = []
    errors = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
    deadline = time.monotonic() + seconds

    async def loop(http: aiohttp.ClientSession, offset: int) -> None:
        i = offset
        while time.monotonic() < deadline:
            i += 1
            begin = time.monotonic()
            try:
                async with http.get(url, headers={"Cookie": cookies[i % len(cookies)]}) as resp:
                    body = await resp.read()
                    if resp.status != 200 or b"Response: Success" not in body:
                        errors["status"] += 1
            except (aiohttp.ClientError, OSError):
                errors["read"] += 1
                continue
            latencies.append(time.monotonic() - begin)

    start = time.monotonic()
    async with client_session() as http:
        await asyncio.gather(*(loop(http, n * 7919) for n in range(concurrency)))
    elapsed = time.monotonic() - start
    latencies.sort()
    raw = {
        "p50_us": int((percentile(latencies, 0.5) or 0) * 1e6),
        "p99_us": int((percentile(latencies, 0.99) or 0) * 1e6),
        "max_us": int((latencies[-1] if latencies else 0) * 1e6),
        **errors,
    }
    return _summary("python", len(latencies), elapsed, raw, 1e-3)


async def drive(
    target: Target, query: str, cookies: list[str], concurrency: int, seconds: float
) -> dict[str, Any]:
    run = run_wrk if have_wrk() else run_python
    return await run(target, query, cookies, concurrency, seconds)
