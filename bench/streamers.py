"""A worker process of push streams: ``python3 -m bench.streamers``.

The same line protocol as ``bench.pollers`` (``logged_in N``, ``go``,
``synced``, ``result {json}``), with one SSE stream (``--kind sse``) or one
WebSocket (``--kind ws``) per session instead of a waitevent loop.

A hand-rolled client on raw asyncio sockets: it reads bytes and finds each
event's ``Seq`` and ``Stamp`` in them with one regex per read, whatever the
framing around the JSON (SSE lines in HTTP chunks, or WebSocket frames), so
the client costs far less per event than the gateway does.  A read is cut
at the last complete message (``\\n\\n`` for SSE; for WebSocket the last
``}}`` that ends an event frame) and the rest waits for the next read.
Latency, loss and duplicates are counted as ``bench.pollers`` counts them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import re
import secrets
import sys
import time
from collections.abc import Awaitable
from typing import Final, cast

from bench.client import Target
from bench.pollers import BUCKET_S, SessionPoller, Tally, run_sessions, run_worker

EVENT_RE: Final = re.compile(rb'"UserEvent":"Bench","Seq":"(\d+)","Stamp":"([0-9.]+)"')
MARK_RE: Final = re.compile(rb'"UserEvent":"(BenchSync|BenchStop)"')
ENDS: Final = {"sse": b"\n\n", "ws": b"}}"}
"""Where a complete event message ends in each kind of stream."""


class StreamConnection(asyncio.Protocol):
    """One session's stream on its own connection."""

    def __init__(self, request: bytes, kind: str, stream: StreamState) -> None:
        self.request = request
        self.end = ENDS[kind]
        self.stream = stream
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.head = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        if self.head:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            status = buffer[9:12]
            if status not in (b"200", b"101"):
                self.stream.failed(f"status {buffer[:200]!r}")
                self._close()
                return
            self.head = False
            buffer = buffer[end + 4 :]
        cut = buffer.rfind(self.end)
        if cut < 0:
            self.buffer = buffer
            return
        cut += len(self.end)
        self.buffer = buffer[cut:]
        if not self.stream.on_data(buffer[:cut]):
            self._close()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.stream.on_lost(exc)


class StreamState(SessionPoller):
    """What one stream has seen (``SessionPoller``'s tally, fed by reads)."""

    def on_data(self, data: bytes) -> bool:
        """Record one read; False once this stream has seen BenchStop."""
        now = time.monotonic()
        tally = self.tally
        tally.polls += 1  # reads: what a poll is to the pollers
        for seq_text, stamp in EVENT_RE.findall(data):
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
        if b"BenchS" in data:
            for mark in MARK_RE.findall(data):
                if mark == b"BenchSync" and not self.synced:
                    self.synced = True
                    tally.synced += 1
                    if tally.synced == self.sessions:
                        self.on_sync.set()
                elif mark == b"BenchStop":
                    tally.stopped += 1
                    return self._finish()
        return True

    def failed(self, what: str) -> None:
        self.tally.error(what)
        self._finish()


def request_for(target: Target, cookie: str, kind: str) -> bytes:
    url = target.url("x=1")
    host = f"{url.host}:{url.port}"
    prefix = url.path.rsplit("/", 1)[0]
    if kind == "sse":
        return f"GET {prefix}/events HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n\r\n".encode()
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    return (
        f"GET {prefix}/ws HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


async def stream(target: Target, cookie: str, kind: str, state: StreamState) -> None:
    url = target.url("x=1")
    loop = asyncio.get_running_loop()
    request = request_for(target, cookie, kind)
    try:
        transport, _ = await loop.create_connection(
            lambda: StreamConnection(request, kind, state), url.host or "127.0.0.1", url.port or 80
        )
    except OSError as exc:
        state.tally.error(f"connect: {exc}")
        return
    try:
        await state.done
    finally:
        transport.close()


async def run(target: Target, sessions: int, kind: str) -> dict[str, object]:
    tally = Tally()

    def session(cookie: str, on_sync: asyncio.Event) -> Awaitable[None]:
        return stream(target, cookie, kind, StreamState(tally, on_sync, sessions))

    return await run_sessions(tally, target, sessions, session)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.streamers")
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT/asterisk/rawman")
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--kind", choices=sorted(ENDS), default="sse")
    parser.add_argument("--timeout", type=float, default=30.0, help="unused (pollers' option)")
    args = parser.parse_args()
    return run_worker(run(Target(args.url), args.sessions, args.kind))


if __name__ == "__main__":
    sys.exit(main())
