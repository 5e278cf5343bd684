"""``python3 -m gateway ...`` of this checkout as a process of its own
(``PYTHONPATH`` set), for what only a process shows: its exit code, its
stderr, a terminal; and a prefix that runs it without some privileges, so
that a test run as root still sees "permission denied"."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from tests.support.deploykit import unavailable
from tests.support.procs import ROOT, checkout_env

NOBODY: Final = 65534


def gateway(
    *args: str,
    stdin: str = "",
    env: Mapping[str, str] | None = None,
    prefix: Sequence[str] = (),
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``python3 -m gateway ARGS`` to its end; stdout and stderr apart."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "gateway", *args],
        cwd=ROOT,
        env=checkout_env() if env is None else dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def without(*capabilities: str) -> tuple[str, ...]:
    """A command prefix that drops these capabilities (``net_bind_service``,
    ``dac_override``, ...) when the tests run as root; others never had them."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        unavailable("setpriv", "util-linux")
    dropped = ",".join(f"-{name}" for name in capabilities)
    return (setpriv, f"--bounding-set={dropped}", f"--inh-caps={dropped}")


UNPRIVILEGED: Final = ("dac_override", "dac_read_search", "fowner")
"""What lets root write into a directory it does not own."""


def not_writable(directory: Path) -> Path:
    """Make ``directory`` one that a process run ``without(*UNPRIVILEGED)`` cannot write."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(directory, NOBODY, NOBODY)
        directory.chmod(0o755)
    else:
        directory.chmod(0o555)
    return directory


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""
