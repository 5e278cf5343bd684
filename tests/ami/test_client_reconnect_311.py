"""Issue 11, item 12: the AMI client reconnects on every Python 3.11.

Before CPython 3.11.4 (cpython#103590) an exception raised inside an
``except*`` clause leaves it wrapped in a new ``ExceptionGroup``; the
client's run loop, which catches the link's errors by type, missed it and
died, and the gateway never reconnected.  Debian 12 ships 3.11.2, and
``.ci/run`` runs these tests under it too.  The last test keeps ``raise``
out of every ``except*`` in the code base.
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.ami.client import LinkLost, link_error
from gateway.app import GATEWAY
from gateway.errors import NotConnected
from gateway.simulator import Simulator
from tests.support.fakeami import FakeAmi, Peer, Sink, new_client, running, settings
from tests.support.harness import MakeClient, login, rawman, start, until
from tests.support.procs import ROOT

pytestmark = pytest.mark.usefixtures("no_loop_problems")


@pytest.mark.parametrize("drop", [Peer.close, Peer.abort])
async def test_the_client_logs_in_again_after_every_drop(fake: FakeAmi, drop: object) -> None:
    sink = Sink()
    client = new_client(settings(fake.port), sink)
    async with running(client) as task:
        for n in range(1, 4):
            await until(lambda n=n: client.ready and len(fake.peers) == n)  # type: ignore[misc]
            drop(fake.peers[-1])  # type: ignore[operator]
            await until(lambda: not client.ready)
        await until(lambda: client.ready)
        assert not task.done()  # the run loop survived three drops
        answer = await client.send([("Action", "Ping"), ("ActionID", "after")])
        assert answer[0].get("Ping") == "Pong"
    assert len(fake.named("Login")) == 4
    assert [up for up, _ in sink.links][:7] == [True, False, True, False, True, False, True]


async def test_the_gateway_is_ready_again_after_asterisk_restarts(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    await simulator.stop()
    await until(lambda: not client.app[GATEWAY].ami.ready)
    assert (await client.get("/readyz")).status == 503
    await simulator.start()
    async with asyncio.timeout(5):
        while (await client.get("/readyz")).status != 200:
            await asyncio.sleep(0.02)
    answer = await rawman(client, session, "action=ping")
    assert answer.startswith("Response: Success\r\nPing: Pong\r\n")


def test_link_error_unwraps_only_a_group_of_link_errors() -> None:
    lost = LinkLost("Asterisk closed the connection")
    assert link_error(ExceptionGroup("", [lost, NotConnected()])) is lost
    assert link_error(ExceptionGroup("", [ExceptionGroup("", [lost])])) is lost
    bug = ExceptionGroup("", [lost, KeyError("bug")])
    assert link_error(bug) is bug  # a bug must not pass for a dropped link


def sources() -> Iterator[Path]:
    for folder in ("gateway", "tests", "bench"):
        yield from sorted((ROOT / folder).rglob("*.py"))


def raises_in_except_star(path: Path) -> list[int]:
    """Lines of ``raise`` statements inside an ``except*`` handler."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.TryStar):
            for handler in node.handlers:
                lines += [n.lineno for n in ast.walk(handler) if isinstance(n, ast.Raise)]
    return lines


def test_no_raise_inside_except_star_anywhere() -> None:
    found = {str(p.relative_to(ROOT)): raises_in_except_star(p) for p in sources()}
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_the_check_finds_a_raise_inside_except_star(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("try:\n    pass\nexcept* ValueError:\n    raise KeyError\n")
    assert raises_in_except_star(sample) == [4]
