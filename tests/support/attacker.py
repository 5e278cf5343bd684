"""Issue 11's attacks, each run as another host would run it: in a process
of its own (``python -m tests.support.attacker NAME PORT``), from its own
loopback address (Linux routes all of 127.0.0.0/8 to the loopback).

Run in the test's own event loop, an attack shared the gateway's process:
a Ping then waited on the attacker's CPU too (aiohttp sessions, hundreds of
sockets, 1 MiB writes, and coverage tracing all of it), not only on the
gateway's, and the bound failed on a loaded machine for the attacker's
sake.  In a child, the attacker's work goes to the other core.

The child's protocol, on its pipes: once its first step is done it writes
``under way``; it attacks until its stdin closes (the parent said stop, or
died), then writes its ``Tally`` as one JSON line and exits 0.  If the
attack fails or ends by itself, it exits 1 with the traceback on stderr.
``attacking`` (in the test process) waits for each step under a timeout and
kills the child on the way out: a failed attacker fails the test with its
stderr, and never hangs it.  This module imports no part of the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import IO, Any, Final

import aiohttp

from tests.support.procs import ROOT

ATTACKER: Final[tuple[str, int]] = ("127.0.0.3", 0)
SECOND_ATTACKER: Final[tuple[str, int]] = ("127.0.0.4", 0)
START_SECONDS: Final = 30.0
"""How long a child may take to import aiohttp and take its first step, on
a machine loaded with other tests."""
STOP_SECONDS: Final = 10.0
"""How long it may take to end its attack (close its sockets) and report."""
UNDER_WAY: Final = b"under way\n"
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclasses.dataclass(frozen=True, slots=True)
class Tally:
    """What an attack did: its ``counts`` (``opened``, ``sent``, ...) and
    the ``answers`` it read, each body (as Latin-1) with how many came."""

    counts: Counter[str] = dataclasses.field(default_factory=Counter)
    answers: Counter[str] = dataclasses.field(default_factory=Counter)

    def to_json(self) -> str:
        return json.dumps({"counts": self.counts, "answers": self.answers})

    @classmethod
    def from_json(cls, line: bytes) -> Tally:
        data = json.loads(line)
        return cls(Counter(data["counts"]), Counter(data["answers"]))


UnderWay = Callable[[], None]
Attack = Callable[[int, Tally, UnderWay], Coroutine[Any, Any, None]]
"""An attack on the gateway at a port: it counts into the tally, calls
``UnderWay`` once its first step is done (again is harmless), and goes on
until cancelled."""


async def connect(port: int, local: tuple[str, int] | None = None) -> Stream:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=local)


async def close(stream: Stream) -> None:
    stream[1].close()
    with contextlib.suppress(ConnectionError):
        await stream[1].wait_closed()


async def text(http: aiohttp.ClientSession, url: str, **params: str) -> str:
    async with http.get(url, params=params) as response:
        return await response.text()


async def hostile_filter(port: int, tally: Tally, under_way: UnderWay) -> None:
    """Item 1: its own session filters with patterns that make a
    backtracking matcher run for ever, and polls, while it sends events
    (``sent``, ``polled``)."""
    connector = aiohttp.TCPConnector(local_addr=ATTACKER, limit=0)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as http:
        url = f"http://127.0.0.1:{port}/asterisk/rawman"
        await text(http, url, action="login", username="admin", secret="admin-secret")
        for pattern in ("(.*.*)*Q", "^.*.*.*.*Q"):
            added = await text(http, url, action="filter", operation="add", filter=pattern)
            assert "Response: Success" in added

        async def poll() -> None:
            while True:
                reply = await text(http, url, action="waitevent", timeout="1")
                assert "Flood" not in reply  # the filter matches none of them
                tally.counts["polled"] += 1

        async with asyncio.TaskGroup() as group:
            group.create_task(poll())
            for n in itertools.count():
                body = f"{n}" + "x" * 900
                reply = await text(http, url, action="userevent", userevent="Flood", body=body)
                assert "Event Sent" in reply
                tally.counts["sent"] += 1
                under_way()
                await asyncio.sleep(0.005)


async def silent_sockets(port: int, tally: Tally, under_way: UnderWay) -> None:
    """Item 2: keeps opening sockets (``opened``), 100 a second; half never
    send a byte, half send part of a head and never more."""
    held: list[Stream] = []
    try:
        while True:
            stream = await connect(port, ATTACKER)
            tally.counts["opened"] += 1
            held.append(stream)
            if tally.counts["opened"] % 2:
                stream[1].write(b"GET /healthz HTTP/1.1\r\nX: ")  # and never more
            under_way()
            await asyncio.sleep(0.01)
    finally:
        for stream in held:
            await close(stream)


async def keep_asking(
    stream: Stream, requests: Iterator[bytes], tally: Tally, pause: float = 0.0
) -> None:
    """On one kept-alive connection: send each request, read its whole
    answer (``Content-Length``) and count its body, wait ``pause``; until
    cancelled.  Raw sockets: the bytes are the attack's own."""
    reader, writer = stream
    for request in requests:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        tally.answers[(await reader.readexactly(length)).decode("latin-1")] += 1
        if pause:
            await asyncio.sleep(pause)


async def many(
    port: int,
    tally: Tally,
    under_way: UnderWay,
    requests: list[bytes],
    count: int,
    addresses: tuple[tuple[str, int], ...] = (ATTACKER,),
    pause: float = 0.0,
) -> None:
    """``count`` kept-alive connections from each of ``addresses``, asking
    ``requests`` in turn, ``pause`` s apart; under way once all are open."""
    streams = [await connect(port, local) for local in addresses for _ in range(count)]
    try:
        under_way()
        async with asyncio.TaskGroup() as group:
            for stream in streams:
                group.create_task(keep_asking(stream, itertools.cycle(requests), tally, pause))
    finally:
        for stream in streams:
            await close(stream)


def get(query: bytes) -> bytes:
    return b"GET /asterisk/rawman?" + query + b" HTTP/1.1\r\nHost: gw\r\n\r\n"


async def anonymous_flood(port: int, tally: Tally, under_way: UnderWay) -> None:
    """Item 7: two addresses ask without a cookie, on two connections each,
    a request every 5 ms: actions they may not run, waits, challenges."""
    requests = [
        get(b"action=ping"),
        get(b"action=waitevent&timeout=30"),
        get(b"action=originate&channel=Local/100@test&application=Wait"),
        get(b"action=challenge&authtype=md5"),
    ]
    await many(port, tally, under_way, requests, 2, (ATTACKER, SECOND_ATTACKER), 0.005)


async def mebibyte_forms(port: int, tally: Tally, under_way: UnderWay) -> None:
    """Item 8: three anonymous clients post 1 MiB of ``a&a&...`` in a loop."""
    flood = b"a&" * (1 << 19)
    post = (
        b"POST /asterisk/rawman HTTP/1.1\r\nHost: gw\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(flood), flood)
    )
    await many(port, tally, under_way, [post], 3)


ATTACKS: Final[dict[str, Attack]] = {
    "hostile_filter": hostile_filter,
    "silent_sockets": silent_sockets,
    "anonymous_flood": anonymous_flood,
    "mebibyte_forms": mebibyte_forms,
}


# The child's side.


async def stdin_closed() -> None:
    """Until our stdin closes: the parent said stop, or died."""
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()


async def before_it_ends(attack: asyncio.Task[None], step: Awaitable[object]) -> None:
    """Until ``step`` is done; if the attack ends first, its error (an
    attack that stopped proves nothing)."""
    waiting = asyncio.ensure_future(step)
    try:
        await asyncio.wait({attack, waiting}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
    if attack.done():
        attack.result()
        raise AssertionError("the attack ended by itself")


async def run(attack: Attack, port: int) -> None:
    tally = Tally()
    started = asyncio.Event()
    task = asyncio.create_task(attack(port, tally, started.set))
    await before_it_ends(task, started.wait())
    sys.stdout.buffer.write(UNDER_WAY)
    sys.stdout.flush()
    await before_it_ends(task, stdin_closed())
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    print(tally.to_json(), flush=True)


# The parent's side.


class Attacker:
    """One attack in its own ``process``, started by ``attacking``."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, stderr: IO[bytes]) -> None:
        assert process.stdin is not None
        assert process.stdout is not None
        self.name = name
        self.process = process
        self._stdin = process.stdin
        self._stdout = process.stdout
        self._stderr = stderr

    async def under_way(self) -> None:
        line = b""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(START_SECONDS):
                line = await self._stdout.readline()
        if line != UNDER_WAY:
            raise await self.failed(f"did not get under way ({line!r})")

    async def stop(self) -> Tally:
        """Tell it to stop; what it did, once it says it ran until now."""
        self._stdin.close()
        try:
            async with asyncio.timeout(STOP_SECONDS):
                report = await self._stdout.read()
                code = await self.process.wait()
        except TimeoutError:
            raise await self.failed(f"did not stop within {STOP_SECONDS} s") from None
        if code != 0:
            raise await self.failed(f"exited {code}")
        return Tally.from_json(report)

    async def end(self) -> None:
        """Kill it if it still runs; reap it."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        await self.process.wait()

    async def failed(self, what: str) -> AssertionError:
        await self.end()
        self._stderr.seek(0)
        stderr = self._stderr.read().decode(errors="replace")
        return AssertionError(f"the attack {self.name} {what}; its stderr:\n{stderr}")


@contextlib.asynccontextmanager
async def attacking(name: str, port: int) -> AsyncIterator[Attacker]:
    """The attack ``name`` on the gateway at ``port``, from a child process,
    under way; it is killed on the way out if ``stop`` did not end it."""
    assert name in ATTACKS, name
    # The attacker is not the code under test: no COVERAGE_* variable
    # (COVERAGE_PROCESS_START, ...) starts a measurement in it.
    env = {key: value for key, value in os.environ.items() if not key.startswith("COVERAGE_")}
    with tempfile.TemporaryFile() as stderr:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-W", "error", "-m", "tests.support.attacker", name, str(port)),
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
        attacker = Attacker(name, process, stderr)
        try:
            await attacker.under_way()
            yield attacker
        finally:
            await attacker.end()


if __name__ == "__main__":
    asyncio.run(run(ATTACKS[sys.argv[1]], int(sys.argv[2])))
