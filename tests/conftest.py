from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

import pytest

from gateway.simulator import Simulator
from tests.support.harness import Client, MakeClient
from tests.support.historyapp import fed, start_history
from tests.support.procs import ROOT

QUICK_TIMEOUT: Final = 600
"""``bench --quick`` takes ~30 s; a hung harness must still fail, not hang CI."""


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    sim = Simulator(auth_fail_delay=0.05)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def history_client(
    simulator: Simulator, aiohttp_client: MakeClient, tmp_path: Path
) -> Client:
    """The gateway with call history on (SQLite), fed ``historyapp.CALLS``."""
    client = await start_history(simulator, aiohttp_client, tmp_path / "h.sqlite3")
    await fed(simulator, client)
    return client


@pytest.fixture(scope="module")
def quick_lines() -> list[dict[str, Any]]:
    """The JSON lines of ``python3 -m bench --quick``, run once."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=QUICK_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
