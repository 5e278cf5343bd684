"""A real MariaDB server for the history tests: its own datadir and socket.

``.ci/run`` installs Debian's ``mariadb-server``; locally, without it, the
tests that need it are skipped (in CI they fail instead: ``CI`` is set).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymysql

from tests.support.dbserver import START_TIMEOUT, missing, stop, wait_for_socket


@dataclass(frozen=True, slots=True)
class MariaDb:
    socket: str
    user: str = "asterisk"
    password: str = "cdr-secret"
    database: str = "asterisk"

    def connect(self) -> pymysql.connections.Connection[pymysql.cursors.Cursor]:
        return pymysql.connect(
            unix_socket=self.socket,
            user=self.user,
            password=self.password,
            database=self.database,
            autocommit=True,
            charset="utf8mb4",
        )


def _binaries() -> tuple[str, str] | None:
    server = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin")
    install = shutil.which("mariadb-install-db")
    if server is None or install is None:
        return None
    return server, install


def _as_root() -> list[str]:
    return ["--user=root"] if os.geteuid() == 0 else []


def _provision(socket: str, db: MariaDb) -> None:
    root = pymysql.connect(unix_socket=socket, user="root", password="", autocommit=True)
    with root.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {db.database} CHARACTER SET utf8mb4")
        cursor.execute(f"CREATE USER '{db.user}'@'localhost' IDENTIFIED BY '{db.password}'")
        cursor.execute(f"GRANT ALL ON {db.database}.* TO '{db.user}'@'localhost'")
    root.close()


@contextlib.contextmanager
def mariadb_server() -> Iterator[MariaDb]:
    """A server of our own for as long as the block runs (``tests/history/conftest.py``)."""
    found = _binaries()
    if found is None:
        missing("mariadb-server")
    server_bin, install_bin = found
    # A short directory of our own: a unix socket path must stay under 108 bytes.
    home = Path(tempfile.mkdtemp(prefix="ajam-mdb-"))
    datadir, socket, log = home / "data", str(home / "mysqld.sock"), home / "error.log"
    subprocess.run(
        [install_bin, "--no-defaults", f"--datadir={datadir}", "--skip-test-db",
         "--auth-root-authentication-method=normal", *_as_root()],
        check=True, capture_output=True, timeout=START_TIMEOUT,
    )  # fmt: skip
    server = subprocess.Popen(
        [server_bin, "--no-defaults", f"--datadir={datadir}", f"--socket={socket}",
         "--skip-networking", f"--pid-file={home / 'mysqld.pid'}", f"--log-error={log}",
         "--innodb-buffer-pool-size=16M", "--skip-log-bin", *_as_root()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_socket(server, socket, log)
        db = MariaDb(socket)
        _provision(socket, db)
        yield db
    finally:
        stop(server, signal.SIGTERM)
        shutil.rmtree(home, ignore_errors=True)
