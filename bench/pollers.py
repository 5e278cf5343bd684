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
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Final, cast

from bench import workerloop
from bench.client import Target, client_session, login_many
from bench.procstat import cpu_seconds, raise_nofile

EVENT_RE: Final = re.compile(rb"UserEvent: Bench\r\nSeq: (\d+)\r\nStamp: ([0-9.]+)\r\n")
MARK_RE: Final = re.compile(rb"UserEvent: (BenchSync|BenchStop)\r\n")
BUCKET_S: Final = 1e-5
"""Latency histogram resolution: 10 µs, far below the targets."""
MAX_ERROR_SAMPLES: Final = 5
LENGTH_RE: Final = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")


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

    def result(self, sessions: int) -> dict[str, object]:
        """The ``result`` line's fields (the worker adds its CPU)."""
        return {
            "sessions": sessions,
            "hist": {str(k): v for k, v in self.hist.items()},
            "max_s": self.max_s,
            "delivered": self.delivered,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "polls": self.polls,
            "synced": self.synced,
            "stopped": self.stopped,
        }

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(what[:200])


class PollConnection(asyncio.Protocol):
    """One session's long poll on its own keep-alive connection.

    A hand-rolled HTTP/1.1 client: a full aiohttp client costs more per
    response than the gateway does, and the harness must not be what is
    measured.  The gateway answers with Content-Length (never chunked).
    """

    def __init__(self, request: bytes, poller: SessionPoller) -> None:
        self.request = request
        self.poller = poller
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.need = -1
        self.head_end = 0
        self.status = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.need < 0 and not self._head():
                return
            if len(self.buffer) < self.need:
                return
            body = self.buffer[self.head_end : self.need]
            self.buffer = self.buffer[self.need :]
            self.need = -1
            if self.poller.on_response(self.status, body) and self.transport is not None:
                self.transport.write(self.request)
            elif self.transport is not None:
                self.transport.close()

    def _head(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = self.buffer[:end]
        self.status = int(head[9:12])
        match = LENGTH_RE.search(head)
        self.head_end = end + 4
        self.need = self.head_end + (int(match.group(1)) if match else 0)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.poller.on_lost(exc)


class SessionPoller:
    """What one session has seen: the last Seq, the markers; feeds the tally."""

    def __init__(self, tally: Tally, on_sync: asyncio.Event, sessions: int) -> None:
        self.tally = tally
        self.on_sync = on_sync
        self.sessions = sessions
        self.last = 0
        self.synced = False
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_response(self, status: int, body: bytes) -> bool:
        """Record one response; False when this session is finished."""
        now = time.monotonic()
        tally = self.tally
        tally.polls += 1
        if status != 200 or b"Response: Error" in body:
            tally.error(f"{status} {body[:120]!r}")
            return self._finish()
        for seq_text, stamp in EVENT_RE.findall(body):
            seq = int(seq_text)
            if seq <= self.last:
                tally.duplicates += 1
                continue
            self.last = seq
            tally.delivered += 1
            latency = now - float(stamp)
            tally.hist[int(latency / BUCKET_S)] += 1
            if latency > tally.max_s:
                tally.max_s = latency
        for mark in MARK_RE.findall(body):
            if mark == b"BenchSync" and not self.synced:
                self.synced = True
                tally.synced += 1
                if tally.synced == self.sessions:
                    self.on_sync.set()
            elif mark == b"BenchStop":
                tally.stopped += 1
                return self._finish()
        return True

    def _finish(self) -> bool:
        if not self.done.done():
            self.done.set_result(None)
        return False

    def on_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.tally.error(f"connection lost: {exc}")
            self.done.set_result(None)


async def poll(target: Target, cookie: str, timeout: float, poller: SessionPoller) -> None:
    url = target.url(f"action=waitevent&timeout={timeout:g}")
    request = (
        f"GET {url.path_qs} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\nCookie: {cookie}\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await loop.create_connection(
            lambda: PollConnection(request, poller), url.host or "127.0.0.1", url.port or 80
        )
    except OSError as exc:
        poller.tally.error(f"connect: {exc}")
        return
    try:
        await poller.done
    finally:
        transport.close()


def _say(line: str) -> None:
    """One line to the harness, whole: a ``result`` line is often over 64 KiB,
    and an unbuffered stdout (``PYTHONUNBUFFERED``) loses what one write() to
    the pipe does not take (seen on uvloop: the line cut at 64 KiB)."""
    sys.stdout.flush()
    data = memoryview((line + "\n").encode())
    while data:
        data = data[os.write(sys.stdout.fileno(), data) :]


def run_worker(main: Coroutine[Any, Any, dict[str, object]]) -> int:
    """A worker process's run: ``main`` on the loop the harness chose, then
    one ``result`` line with its CPU seconds; the exit status."""
    raise_nofile()
    result = workerloop.run(main)
    result["cpu_s"] = cpu_seconds(os.getpid())
    _say("result " + json.dumps(result, separators=(",", ":")))
    return 0


async def _stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


SessionTask = Callable[[str, asyncio.Event], Awaitable[None]]
"""One session's work from its cookie, told the shared sync event (a poll loop, a stream)."""


async def run_sessions(
    tally: Tally, target: Target, sessions: int, session: SessionTask
) -> dict[str, object]:
    """The worker's line protocol around ``session`` run for each logged-in
    session: ``logged_in N``, wait for ``go``, ``synced`` once all saw the
    marker; the tally as the ``result`` dict."""
    commands = await _stdin_lines()
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
        await asyncio.gather(*(session(cookie, on_sync) for cookie in cookies))
        reporter.cancel()
    return tally.result(sessions)


async def run(target: Target, sessions: int, timeout: float) -> dict[str, object]:
    tally = Tally()

    def session(cookie: str, on_sync: asyncio.Event) -> Awaitable[None]:
        return poll(target, cookie, timeout, SessionPoller(tally, on_sync, sessions))

    return await run_sessions(tally, target, sessions, session)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.pollers")
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT/asterisk/rawman")
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=30.0, help="waitevent timeout=")
    args = parser.parse_args()
    return run_worker(run(Target(args.url), args.sessions, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
