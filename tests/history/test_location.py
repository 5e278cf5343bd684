"""``{node_id}`` in ``[history] path``: the app records into the file of its
own node id, so two instances of the systemd template never share one."""

from __future__ import annotations

import os
from pathlib import Path

from gateway.history.location import Access, user_name, write_problem
from gateway.simulator import Simulator
from tests.support.harness import MakeClient, start
from tests.support.historyapp import fed, history_section


async def test_each_node_records_into_its_own_file(
    simulator: Simulator, aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    template = tmp_path / "{node_id}" / "history.sqlite3"
    for node in ("a", "b"):
        client = await start(
            simulator, aiohttp_client, http={"node_id": node}, history=history_section(template)
        )
        await fed(simulator, client)
    assert files(tmp_path) == ["a/history.sqlite3", "b/history.sqlite3"]


def files(root: Path) -> list[str]:
    """The SQLite files under ``root`` (their -wal and -shm beside them left out)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.sqlite3"))


def refusing(*denied: Path) -> Access:
    """``os.access`` as for a user who may not write these (the tests may run as root)."""
    return lambda path, mode: path not in denied


def test_why_a_path_cannot_be_written(tmp_path: Path) -> None:
    state = tmp_path / "var-lib"
    state.mkdir()
    user = user_name(os.geteuid())
    missing = state / "a" / "h.sqlite3"
    assert write_problem(str(missing), str(state)) is None
    hint = f"; under systemd the unit's StateDirectory= creates {state} (and {state}/ID for"
    why = write_problem(str(missing), str(state), refusing(state))
    assert why is not None
    assert why.startswith(
        f"[history] path '{missing}': {state / 'a'} does not exist, and {user} cannot create"
        f" it in {state}{hint}"
    )
    assert why.endswith(f"or point path where {user} can write when running from a shell")
    inside = state / "h.sqlite3"
    why = write_problem(str(inside), "/var/lib/ajam-gateway", refusing(state))
    assert why == (
        f"[history] path '{inside}': {user} cannot write in {state} (SQLite also writes its"
        " -wal and -shm files there)"
    )
    inside.write_bytes(b"")
    why = write_problem(str(inside), "/var/lib/ajam-gateway", refusing(inside))
    assert why == f"[history] path '{inside}': {user} cannot read and write {inside}"


def test_a_uid_without_a_name() -> None:
    assert user_name(0) == "root"
    assert user_name(2**31 - 7) == f"uid {2**31 - 7}"
