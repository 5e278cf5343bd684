"""The processes of a run: the gateway (or bare handler), its AMI side, workers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import aiohttp

from bench.amiresponder import AmiResponder
from bench.client import BenchError, Target
from bench.procstat import Sample, sample

START_TIMEOUT: Final = 30.0
PREFIX: Final = "/asterisk"


def gateway_toml(ami_port: int, extra: str = "", events: str = "") -> str:
    """Generous limits: the bench measures the gateway's cost, not its guards;
    ``extra`` adds tables (the AMI door's), ``events`` lines to ``[events]``."""
    return (
        extra
        + f"""\
[ami]
host = "127.0.0.1"
port = {ami_port}
username = "bench"
secret = "bench-ami-secret"

[http]
host = "127.0.0.1"
port = 0
prefix = "{PREFIX}"
httptimeout = 3600            # no session or held poll expires during a run

[limits]
max_connections = 1000000
max_sessions = 1000000
rate_per_session = 100000000.0
rate_per_address = 100000000.0
login_fail_delay = 0.0

[events]
ring_size = 100000
{events}

[push]
max_streams = 1000000
max_streams_per_address = 1000000   # every bench client is 127.0.0.1

[users.bench]
secret = "bench-secret"
read = "user"                 # only the bench's UserEvents, not login security events
write = "all"
"""
    )


def write_file(path: Path, text: str) -> Path:
    """Small files written before a process starts (sync on purpose: tiny)."""
    path.write_text(text)
    return path


@dataclass(slots=True)
class Server:
    """A system under test running in its own process."""

    process: asyncio.subprocess.Process
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def target(self) -> Target:
        return Target(f"http://127.0.0.1:{self.port}{PREFIX}/rawman")

    def sample(self) -> Sample:
        return sample(self.pid)


def _python() -> list[str]:
    return [sys.executable]


async def _read_port(process: asyncio.subprocess.Process) -> int:
    assert process.stdout is not None
    async with asyncio.timeout(START_TIMEOUT):
        line = await process.stdout.readline()
    if not line.startswith(b"PORT "):
        raise BenchError(f"server did not start: {line!r}")
    return int(line.split()[1])


@contextlib.asynccontextmanager
async def server(args: list[str]) -> AsyncIterator[Server]:
    process = await asyncio.create_subprocess_exec(
        *_python(), "-m", "bench.server", *args, stdout=asyncio.subprocess.PIPE
    )
    try:
        yield Server(process, await _read_port(process))
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(START_TIMEOUT):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


@dataclass(slots=True)
class Options:
    uvloop: bool = False
    profile_dir: str | None = None


@contextlib.asynccontextmanager
async def gateway(
    options: Options, name: str, extra: str = "", events: str = ""
) -> AsyncIterator[tuple[Server, AmiResponder]]:
    """A fresh gateway and AMI responder, ready (AMI logged in, /readyz 200)."""
    ami = AmiResponder()
    ami_port = await ami.start()
    with tempfile.TemporaryDirectory(prefix="ajam-bench-") as tmp:
        config = write_file(Path(tmp, "gateway.toml"), gateway_toml(ami_port, extra, events))
        args = ["gateway", str(config)]
        if options.uvloop:
            args.append("--uvloop")
        if options.profile_dir:
            os.makedirs(options.profile_dir, exist_ok=True)
            args += ["--profile", os.path.join(options.profile_dir, f"{name}.html")]
        try:
            async with server(args) as srv:
                await wait_ready(srv, ami)
                yield srv, ami
        finally:
            await ami.stop()


async def wait_ready(srv: Server, ami: AmiResponder) -> None:
    async with asyncio.timeout(START_TIMEOUT):
        await ami.logged_in.wait()
        async with aiohttp.ClientSession() as http:
            while True:
                async with http.get(f"http://127.0.0.1:{srv.port}/readyz") as resp:
                    if resp.status == 200:
                        return
                await asyncio.sleep(0.05)


class Worker:
    """One worker process (``bench.pollers``, ``bench.streamers`` or
    ``bench.amiclients``) and its line protocol."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls, target: Target, sessions: int, timeout: float, kind: str = "poll"
    ) -> Worker:
        """Workers always run on asyncio: --uvloop changes the server only.
        ``kind``: ``poll`` (``bench.pollers``), ``sse`` or ``ws`` (``bench.streamers``)."""
        args = ["--url", target.base, "--sessions", str(sessions), "--timeout", str(timeout)]
        module = "bench.pollers"
        if kind != "poll":
            module = "bench.streamers"
            args += ["--kind", kind]
        return await cls.start_module(module, args)

    @classmethod
    async def start_ami(cls, port: int, clients: int, stall: int = 0) -> Worker:
        """A ``bench.amiclients`` process: AMI door clients, same line protocol."""
        args = ["--port", str(port), "--clients", str(clients), "--stall", str(stall)]
        return await cls.start_module("bench.amiclients", args)

    @classmethod
    async def start_module(cls, module: str, args: list[str]) -> Worker:
        process = await asyncio.create_subprocess_exec(
            *_python(),
            "-m",
            module,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,
        )
        return cls(process)

    async def expect(self, word: str) -> str:
        assert self.process.stdout is not None
        line = (await self.process.stdout.readline()).decode()
        if not line.startswith(word):
            raise BenchError(f"worker said {line[:200]!r}, expected {word!r}")
        return line[len(word) :].strip()

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")

    async def result(self) -> dict[str, object]:
        data = json.loads(await self.expect("result"))
        assert isinstance(data, dict)
        await self.process.wait()
        return data

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


@contextlib.asynccontextmanager
async def workers(
    target: Target, sessions: int, timeout: float, options: Options, kind: str = "poll"
) -> AsyncIterator[list[Worker]]:
    """Sessions spread over processes: one Python process saturates a core first."""
    count = worker_count(sessions)
    shares = [sessions // count + (1 if i < sessions % count else 0) for i in range(count)]
    started = [await Worker.start(target, share, timeout, kind) for share in shares]
    try:
        yield started
    finally:
        for worker in started:
            worker.kill()
            await worker.process.wait()


def worker_count(sessions: int) -> int:
    if sessions <= 100:
        return 1
    if sessions <= 1000:
        return 2
    return 4
