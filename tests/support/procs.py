"""Gateway instances as real processes (``python3 -m gateway --config ...``),
for tests of signals and of nginx in front of several instances."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from aiohttp import ClientError, ClientSession

ROOT = Path(__file__).resolve().parents[2]
"""The worktree: ``python3 -m gateway`` run here imports this checkout."""

USERS: Mapping[str, Mapping[str, str]] = {
    "admin": {"secret": "admin-secret", "read": "all", "write": "all"},
    "reader": {"secret": "reader-secret", "read": "call,system,user", "write": "none"},
}


def checkout_env(**extra: str) -> dict[str, str]:
    """This process's environment, importing this checkout's ``gateway``."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def free_port() -> int:
    """A port the kernel just handed out (for programs that cannot take port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def toml_value(value: object) -> str:
    return json.dumps(value)  # strings, numbers and booleans are the same in TOML


def write_config(
    path: Path,
    *,
    ami_port: int,
    port: int,
    node_id: str = "",
    users: Mapping[str, Mapping[str, str]] = USERS,
    http: Mapping[str, object] | None = None,
    push: Mapping[str, object] | None = None,
) -> Path:
    lines = [
        "[ami]",
        f"port = {ami_port}",
        'username = "admin"',
        'secret = "admin-secret"',
        "reconnect_min = 0.05",
        "reconnect_max = 0.2",
        "[http]",
        f"port = {port}",
        f"node_id = {toml_value(node_id)}",
        *(f"{key} = {toml_value(value)}" for key, value in (http or {}).items()),
        "[limits]",
        "login_fail_delay = 0.05",
        # Every test client is 127.0.0.1: the rate limits have their own tests.
        "rate_per_address = 1000000.0",
    ]
    if push:
        lines += ["[push]", *(f"{key} = {toml_value(value)}" for key, value in push.items())]
    for name, user in users.items():
        lines.append(f"[users.{name}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in user.items())
    path.write_text("\n".join(lines) + "\n")
    return path


class GatewayProcess:
    """One ``ajam-gateway`` process, its output in a log file."""

    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.config = config
        self.port = port
        self.log_path = log
        self.base = f"http://127.0.0.1:{port}"
        self._proc: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    async def start(self) -> None:
        self._log = self.log_path.open("wb")
        self._proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "gateway", "--config", str(self.config)),
            cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def wait_ready(self, timeout: float = 10.0) -> None:
        async with ClientSession() as client, asyncio.timeout(timeout):
            while True:
                with contextlib.suppress(ClientError, OSError):
                    response = await client.get(f"{self.base}/readyz")
                    if response.status == 200:
                        return
                if self.returncode is not None:
                    raise AssertionError(f"the gateway exited:\n{self.log()}")
                await asyncio.sleep(0.05)

    async def wait_polls(self, count: int, timeout: float = 10.0) -> None:
        """Until the instance holds ``count`` waitevents (its /metrics says so)."""
        wanted = f"\najam_pending_polls {float(count)}\n"
        async with ClientSession() as client, asyncio.timeout(timeout):
            while True:
                async with client.get(f"{self.base}/metrics") as response:
                    if wanted in await response.text():
                        return
                await asyncio.sleep(0.02)

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.returncode

    def send(self, sig: signal.Signals) -> None:
        assert self._proc is not None
        self._proc.send_signal(sig)

    async def wait(self, timeout: float) -> int:
        assert self._proc is not None
        async with asyncio.timeout(timeout):
            return await self._proc.wait()

    async def stop(self) -> None:
        """Kill it if it still runs (test cleanup)."""
        proc = self._proc
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
