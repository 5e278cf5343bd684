"""A real ``ajam-gateway`` process stopped with SIGTERM keeps every call it
had received: the queue is flushed on the way out, not on a timer."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
from pathlib import Path

from aiohttp import ClientSession, CookieJar

from gateway.simulator import Simulator
from tests.support.historydata import call
from tests.support.procs import GatewayProcess, free_port

CALLS = 7


def write_config(path: Path, ami_port: int, http_port: int, db: Path) -> None:
    path.write_text(
        f"""
[ami]
port = {ami_port}
username = "admin"
secret = "admin-secret"
[http]
port = {http_port}
[history]
enabled = true
path = "{db}"
flush_interval = 60   # far beyond the test: only the flush at stop writes
[users.admin]
secret = "admin"
read = "all"
write = "all"
"""
    )


def stored(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM cdr").fetchone()[0])


async def wait_for_marker(http: ClientSession, base: str) -> None:
    """AMI delivers in order: once the marker is seen, every Cdr before it is queued."""
    async with asyncio.timeout(10):
        while True:
            answer = await http.get(f"{base}/rawman?action=waitevent&timeout=1")
            if "UserEvent: HistoryMarker" in await answer.text():
                return


async def test_sigterm_flushes_every_queued_call(simulator: Simulator, tmp_path: Path) -> None:
    http_port, db, config = free_port(), tmp_path / "h.sqlite3", tmp_path / "g.toml"
    write_config(config, simulator.port, http_port, db)
    proc = GatewayProcess(config, http_port, tmp_path / "gateway.log")
    await proc.start()
    base = f"{proc.base}/asterisk"
    try:
        await proc.wait_ready(timeout=20)
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:
            await http.get(f"{base}/rawman?action=login&username=admin&secret=admin")
            for n in range(CALLS):
                simulator.emit(call(str(100 + n), "89120000000", f"2026-11-27 10:00:0{n}"))
            simulator.emit((("Event", "UserEvent"), ("Privilege", "user,all"),
                            ("UserEvent", "HistoryMarker")))  # fmt: skip
            await wait_for_marker(http, base)
        assert stored(db) == 0  # nothing written yet: the timer is a minute away
        proc.send(signal.SIGTERM)
        assert await proc.wait(20) == 0, proc.log()
    finally:
        await proc.stop()
    assert stored(db) == CALLS
