"""A worker process of long-polling sessions: ``python3 -m bench.pollers``.

It logs in ``--sessions`` sessions and prints ``logged_in N``; on ``go`` (a
stdin line) each session long-polls waitevent in a loop.  It prints
``synced`` once every session has seen a ``BenchSync`` marker, and when every
session has seen ``BenchStop`` it prints ``result {json}`` and exits.

Latency is ``time.monotonic()`` at receipt minus the event's ``Stamp`` (the
AMI responder's ``time.monotonic()`` at send; one clock for every process).
Events reach a session in order (the session's cursor), so a ``Seq`` not
above the last one seen is a duplicate, and any shortfall is a loss.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

import aiohttp

from bench.client import Target, client_session, login_many
from bench.procstat import cpu_seconds, raise_nofile

EVENT_RE: Final = re.compile(rb"UserEvent: Bench\r\nSeq: (\d+)\r\nStamp: ([0-9.]+)\r\n")
MARK_RE: Final = re.compile(rb"UserEvent: (BenchSync|BenchStop)\r\n")
BUCKET_S: Final = 1e-5
"""Latency histogram resolution: 10 µs, far below the targets."""
RETRY_DELAY: Final = 0.05
MAX_ERROR_SAMPLES: Final = 5


@dataclass(slots=True)
class Tally:
    hist: Counter[int] = field(default_factory=Counter)
    max_s: float = 0.0
    delivered: int = 0
    duplicates: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    polls: int = 0
    synced: int = 0
    stopped: int = 0

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(what[:200])


async def poll_loop(
    http: aiohttp.ClientSession,
    target: Target,
    cookie: str,
    timeout: float,
    tally: Tally,
    on_sync: asyncio.Event,
    sessions: int,
) -> None:
    url = target.url(f"action=waitevent&timeout={timeout:g}")
    headers = {"Cookie": cookie}
    last = 0
    synced = False
    while True:
        try:
            async with http.get(url, headers=headers) as resp:
                body = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, OSError) as exc:
            tally.error(f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(RETRY_DELAY)
            continue
        now = time.monotonic()
        tally.polls += 1
        if status != 200 or b"Response: Error" in body:
            tally.error(f"{status} {body[:120]!r}")
            await asyncio.sleep(RETRY_DELAY)
            continue
        for seq_text, stamp in EVENT_RE.findall(body):
            seq = int(seq_text)
            if seq <= last:
                tally.duplicates += 1
                continue
            last = seq
            tally.delivered += 1
            latency = now - float(stamp)
            tally.hist[int(latency / BUCKET_S)] += 1
            tally.max_s = max(tally.max_s, latency)
        for mark in MARK_RE.findall(body):
            if mark == b"BenchSync" and not synced:
                synced = True
                tally.synced += 1
                if tally.synced == sessions:
                    on_sync.set()
            elif mark == b"BenchStop":
                tally.stopped += 1
                return


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def run(target: Target, sessions: int, timeout: float) -> dict[str, object]:
    commands = await _stdin_lines()
    tally = Tally()
    async with client_session() as http:
        cookies = await login_many(http, target, sessions)
        _say(f"logged_in {len(cookies)}")
        if (await commands.readline()).strip() != b"go":
            raise SystemExit("expected 'go'")
        on_sync = asyncio.Event()

        async def report_sync() -> None:
            await on_sync.wait()
            _say("synced")

        reporter = asyncio.create_task(report_sync())
        await asyncio.gather(
            *(poll_loop(http, target, c, timeout, tally, on_sync, sessions) for c in cookies)
        )
        reporter.cancel()
    return {
        "sessions": sessions,
        "hist": {str(k): v for k, v in tally.hist.items()},
        "max_s": tally.max_s,
        "delivered": tally.delivered,
        "duplicates": tally.duplicates,
        "errors": tally.errors,
        "error_samples": tally.error_samples,
        "polls": tally.polls,
        "synced": tally.synced,
        "stopped": tally.stopped,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.pollers")
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT/asterisk/rawman")
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=30.0, help="waitevent timeout=")
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    raise_nofile()
    coro = run(Target(args.url), args.sessions, args.timeout)
    if args.uvloop:
        import uvloop

        result = uvloop.run(coro)
    else:
        result = asyncio.run(coro)
    result["cpu_s"] = cpu_seconds(os.getpid())
    _say("result " + json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
