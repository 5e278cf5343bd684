"""What the MariaDB and PostgreSQL test servers share: start, wait, stop,
and asking /history with Basic credentials."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, NoReturn

import pytest

from gateway.errors import HistoryUnavailable
from gateway.history.query import HistoryQuery
from gateway.history.tablesource import TableSource
from tests.support.harness import Client, basic

START_TIMEOUT = 60.0
"""A cold database start on a loaded CI machine takes seconds, not minutes."""
AUTH = basic("admin")


def missing(package: str) -> NoReturn:
    """Skip locally, fail in CI (``CI`` is set there, and .ci/run installs it)."""
    if os.environ.get("CI"):
        pytest.fail(f"{package} is not installed (.ci/run installs it)")
    pytest.skip(f"{package} is not installed")


def wait_for_socket(server: subprocess.Popen[bytes], path: str, log: Path) -> None:
    """Until the server accepts on its unix socket.  A plain socket, closed
    at once: a driver's failed connect may leak its socket."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as probe:
            probe.connect(path)
            return
        time.sleep(0.1)
    raise RuntimeError("the server did not start in time")


def stop(server: subprocess.Popen[bytes], signal_number: int) -> None:
    server.send_signal(signal_number)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


async def ask(client: Client, status: int = 200, **params: Any) -> Any:
    response = await client.post("/asterisk/history", json=params, headers=AUTH)
    assert response.status == status, await response.text()
    return await response.json()


def days(answer: Any) -> list[str]:
    return [c["start"][:10] for c in answer["calls"]]


async def check_filters(client: Client) -> None:
    """Every filter over ``historydata.CDR_ROWS``, as a PBX's table holds them."""
    assert (await ask(client))["count"] == 5
    for spelling in ("+7 912 000-00-00", "89120000000", "9120000000"):
        found = await ask(client, number=spelling)
        assert days(found) == ["2026-11-24", "2026-11-22", "2026-11-21", "2026-11-20"]
    mine = ["2026-11-24", "2026-11-22", "2026-11-20"]
    assert days(await ask(client, caller="9120000000")) == mine
    assert days(await ask(client, callee="9120000000")) == ["2026-11-21"]
    assert days(await ask(client, caller="100", callee="+79120000000")) == ["2026-11-21"]
    assert days(await ask(client, number="9120000000", limit=1)) == ["2026-11-24"]
    window = await ask(client, number="9120000000", since="2026-11-21", until="2026-11-22T12:00")
    assert days(window) == ["2026-11-21"]
    assert days(await ask(client, number="9120000000", disposition="BUSY")) == ["2026-11-22"]


async def check_unreachable(down: TableSource, unstarted: TableSource) -> None:
    """A database that does not answer, and a source never started: both 503."""
    await down.start()
    try:
        with pytest.raises(HistoryUnavailable, match="not reachable"):
            await down.query(HistoryQuery(limit=1))
    finally:
        await down.close()
    with pytest.raises(HistoryUnavailable):
        await unstarted.query(HistoryQuery(limit=1))
