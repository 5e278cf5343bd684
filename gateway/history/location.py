"""Where the SQLite history lives: ``[history] path``, its ``{node_id}``,
and whether this process can write there.

``path = "/var/lib/ajam-gateway/{node_id}/history.sqlite3"`` gives each
instance of ``ajam-gateway@.service`` its own file: ``{node_id}`` becomes
``[http] node_id`` (``--node-id``, the unit's instance name), or nothing
when it is empty.  It is the only placeholder; node ids are ``[a-z0-9]``,
so the expansion never adds a slash or a ``..``.

SQLite in WAL mode writes ``PATH-wal`` and ``PATH-shm`` beside the file, so
its directory must be writable, not only the file.  A missing directory is
created (mode 0700: the calls are personal data) if its parent is writable.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable
from pathlib import Path
from typing import Final

NODE_ID: Final = "{node_id}"
MEMORY: Final = ":memory:"
STATE_DIRECTORY: Final = "/var/lib/ajam-gateway"
"""What the shipped units' ``StateDirectory=ajam-gateway`` (``ajam-gateway/%i``
for ``ajam-gateway@%i``) creates, owned by the service user, before start."""


def template_problem(template: str) -> str | None:
    """Why ``template`` is not a usable path template, or None."""
    rest = template.replace(NODE_ID, "")
    if "{" in rest or "}" in rest:
        return f"{template!r}: the only placeholder is {NODE_ID}"
    return None


def expand(template: str, node_id: str) -> str:
    return template.replace(NODE_ID, node_id)


Access = Callable[[Path, int], bool]
"""``os.access``: whether this process may read/write/enter a path."""


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid without a passwd entry (containers)
        return f"uid {uid}"


def _user() -> str:
    return user_name(os.geteuid())


def _hint(path: Path, state: str) -> str:
    if path.is_absolute() and path.is_relative_to(state):
        return (
            f"; under systemd the unit's StateDirectory= creates {state} (and"
            f" {state}/ID for ajam-gateway@ID) for the service user when it starts:"
            " check as that user after a first start, or point path where"
            f" {_user()} can write when running from a shell"
        )
    return ""


def _nearest_existing(directory: Path) -> Path:
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return directory


def write_problem(
    path_text: str, state: str = STATE_DIRECTORY, access: Access = os.access
) -> str | None:
    """Why this process could not create or write the SQLite file, or None.

    Changes nothing on disk (``check-config``); the store itself then
    creates a missing directory (``prepare``).  ``state`` is where the units'
    StateDirectory= lives.
    """
    if path_text == MEMORY:
        return None
    path = Path(path_text)
    where = f"[history] path {path_text!r}"
    if path.is_dir():
        return f"{where} is a directory: name the file inside it"
    directory = path.absolute().parent
    if not directory.is_dir():
        ancestor = _nearest_existing(directory)
        if not ancestor.is_dir():
            return f"{where}: {ancestor} is not a directory"
        if not access(ancestor, os.W_OK | os.X_OK):
            return (
                f"{where}: {directory} does not exist, and {_user()} cannot create it"
                f" in {ancestor}{_hint(path, state)}"
            )
        return None
    if not access(directory, os.W_OK | os.X_OK):
        return (
            f"{where}: {_user()} cannot write in {directory} (SQLite also writes"
            f" its -wal and -shm files there){_hint(path, state)}"
        )
    if path.exists() and not access(path, os.R_OK | os.W_OK):
        return f"{where}: {_user()} cannot read and write {path}{_hint(path, state)}"
    return None


def prepare(path_text: str) -> None:
    """Create the file's directory if it is missing (``OSError`` if that fails)."""
    if path_text != MEMORY:
        Path(path_text).absolute().parent.mkdir(mode=0o700, parents=True, exist_ok=True)
