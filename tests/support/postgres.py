"""A real PostgreSQL server for the history tests: its own datadir and socket.

``.ci/run`` installs Debian's ``postgresql``; locally, without it, the tests
that need it are skipped (in CI they fail instead: ``CI`` is set).  initdb
refuses to run as root, so as root the server runs as the ``postgres`` user
the package creates.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import Any

from tests.support.dbserver import START_TIMEOUT, missing, stop, wait_for_socket


@dataclass(frozen=True, slots=True)
class Postgres:
    socket_dir: str
    user: str = "asterisk"
    password: str = "cdr-secret"
    database: str = "postgres"


def _bin_dir() -> Path | None:
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres() -> dict[str, Any]:
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


def _wait_accepting(bin_dir: Path, home: Path) -> None:
    """The socket opens before recovery ends ("the database system is starting
    up"): ask pg_isready until the server takes connections."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        probe = subprocess.run(
            [bin_dir / "pg_isready", "-q", "-h", home, "-p", "5432"], check=False, timeout=10
        )
        if probe.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("postgres did not accept connections in time")


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A server of our own for as long as the block runs (``tests/history/conftest.py``)."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        missing("postgresql")
    db = Postgres(tempfile.mkdtemp(prefix="ajam-pg-"))
    home = Path(db.socket_dir)
    (home / "pw").write_text(db.password)
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
        shutil.chown(home / "pw", "postgres", "postgres")
    log = home / "server.log"
    subprocess.run(
        [bin_dir / "initdb", "-D", home / "data", "-U", db.user, f"--pwfile={home / 'pw'}",
         "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"],
        check=True, capture_output=True, timeout=START_TIMEOUT, **_as_postgres(),
    )  # fmt: skip
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [bin_dir / "postgres", "-D", home / "data", "-k", home, "-c", "listen_addresses=",
             "-c", "fsync=off"],
            stdout=out, stderr=subprocess.STDOUT, **_as_postgres(),
        )  # fmt: skip
    try:
        wait_for_socket(server, str(home / ".s.PGSQL.5432"), log)
        _wait_accepting(bin_dir, home)
        yield db
    finally:
        stop(server, signal.SIGINT)  # fast shutdown: open sessions are ended
        shutil.rmtree(home, ignore_errors=True)
