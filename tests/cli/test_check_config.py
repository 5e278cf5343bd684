"""check-config sees what the service will see: secrets from systemd's
EnvironmentFile (and nothing from this shell), the node id the unit
passes, and whether the SQLite history can be written where the config
says; the gateway itself fails on an unwritable history path with the same
one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.history.location import write_problem
from tests.support.clirun import UNPRIVILEGED, gateway, last_line, not_writable, without
from tests.support.procs import ROOT, checkout_env, free_port

ENV_FILE = "# the unit's secrets\nAJAM_AMI_SECRET='ami secret'\nexport AJAM_ADMIN_SECRET=s3cret\n"


def config(tmp_path: Path, history: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(
        '[ami]\nusername = "admin"\nsecret_env = "AJAM_AMI_SECRET"\n'
        '[users.admin]\nsecret_env = "AJAM_ADMIN_SECRET"\nread = "all"\n'
        f'[history]\nenabled = true\npath = "{history}"\n'
    )
    return path


def test_secrets_come_from_the_env_file_only(tmp_path: Path) -> None:
    path = config(tmp_path, str(tmp_path / "h.sqlite3"))
    env_file = tmp_path / "ajam-gateway.env"
    env_file.write_text(ENV_FILE)
    # The shell has both secrets; the file has only one that systemd reads.
    shell = checkout_env(AJAM_AMI_SECRET="shell", AJAM_ADMIN_SECRET="shell")
    assert gateway("check-config", str(path), env=shell).returncode == 0
    result = gateway("check-config", "--env-file", str(env_file), str(path), env=shell)
    assert result.returncode == 2
    assert f"{env_file}:3: 'export AJAM_ADMIN_SECRET' is not a variable name" in result.stderr
    assert last_line(result.stderr) == (
        "ajam-gateway: [users.admin] secret_env: environment variable"
        " 'AJAM_ADMIN_SECRET' is not set or empty"
    )
    env_file.write_text(ENV_FILE.replace("export ", ""))
    fixed = gateway("check-config", "--env-file", str(env_file), str(path), env=shell)
    assert fixed.returncode == 0, fixed.stderr
    assert "user admin:" in fixed.stdout
    missing = gateway("check-config", f"--env-file={tmp_path / 'a.env'}", str(path))
    assert missing.stderr == f"ajam-gateway: --env-file {tmp_path / 'a.env'}: no such file\n"
    optional = ("check-config", f"--env-file={env_file}", f"--env-file=-{tmp_path / 'a.env'}")
    assert gateway(*optional, str(path)).returncode == 0


def test_node_id_in_the_history_path(tmp_path: Path) -> None:
    path = config(tmp_path, str(tmp_path / "{node_id}" / "history.sqlite3"))
    env = checkout_env(AJAM_AMI_SECRET="a", AJAM_ADMIN_SECRET="b")
    unit = gateway("check-config", "--node-id", "a", str(path), env=env)
    assert unit.returncode == 0, unit.stderr
    assert f"history: SQLite {tmp_path / 'a' / 'history.sqlite3'}\n" in unit.stdout
    assert "node_id=a" in unit.stdout
    assert not (tmp_path / "a").exists()  # checked, not created
    plain = gateway("check-config", str(path), env=env)
    assert "has {node_id} but the node id is empty: give --node-id ID" in plain.stderr


def test_an_unwritable_history_directory(tmp_path: Path) -> None:
    state = not_writable(tmp_path / "state")
    env = checkout_env(AJAM_AMI_SECRET="a", AJAM_ADMIN_SECRET="b")
    for history, why in (
        (state / "h.sqlite3", f"cannot write in {state} (SQLite also writes its -wal and -shm"),
        (state / "a" / "h.sqlite3", f"{state / 'a'} does not exist, and "),
    ):
        path = config(tmp_path, str(history))
        result = gateway("check-config", str(path), env=env, prefix=without(*UNPRIVILEGED))
        assert result.returncode == 2, result.stderr
        assert last_line(result.stderr).startswith(f"ajam-gateway: [history] path '{history}': ")
        assert why in result.stderr


def test_the_gateway_says_the_same_and_stops(tmp_path: Path) -> None:
    state = not_writable(tmp_path / "state")
    path = config(tmp_path, str(state / "a" / "h.sqlite3"))
    env = checkout_env(AJAM_AMI_SECRET="a", AJAM_ADMIN_SECRET="b")
    argv = ("--config", str(path), "--demo", "--port", str(free_port()))
    result = gateway(*argv, env=env, prefix=without(*UNPRIVILEGED))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    line = last_line(result.stderr)
    assert line.startswith(f"ajam-gateway: [history] path '{state / 'a' / 'h.sqlite3'}': ")
    assert f"{state / 'a'} does not exist, and " in line


def test_a_missing_directory_is_created_when_the_parent_is_writable(tmp_path: Path) -> None:
    target = tmp_path / "new" / "h.sqlite3"
    assert write_problem(str(target)) is None  # creatable
    assert write_problem(":memory:") is None
    assert (
        write_problem(str(tmp_path))
        == f"[history] path '{tmp_path}' is a directory: name the file inside it"
    )
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert write_problem(str(blocker / "h.sqlite3")) == (
        f"[history] path '{blocker / 'h.sqlite3'}': {blocker} is not a directory"
    )


def test_the_state_directory_hint(tmp_path: Path) -> None:
    state = not_writable(tmp_path / "var-lib-ajam-gateway")
    script = (
        "import sys; from gateway.history.location import write_problem;"
        " print(write_problem(sys.argv[1], state=sys.argv[2]))"
    )
    argv = [sys.executable, "-c", script, str(state / "a" / "h.sqlite3"), str(state)]
    done = subprocess.run(
        [*without(*UNPRIVILEGED), *argv],
        cwd=ROOT,
        env=checkout_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert (
        f"under systemd the unit's StateDirectory= creates {state} (and {state}/ID" in done.stdout
    )
    assert "for the service user when it starts" in done.stdout
