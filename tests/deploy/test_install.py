"""deploy/install.sh into a temporary root (``--root``): it builds the venv
with Debian's own python3 where there is one, installs this working tree
into it, lays out /etc/ajam-gateway and the units; run again it upgrades and
keeps the admin's files. The gateway it installed then starts (demo PBX, the
installed example config with the simulator's AMI account) and answers
``/readyz``.

One install, shared by the tests below (module fixture): a venv and a pip
install take a while.
"""

from __future__ import annotations

import stat
from pathlib import Path

from tests.support.deploykit import INSTALL, MARK, Staged, clean_env, get, run, running, tool
from tests.support.procs import ROOT, free_port


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_layout_and_its_modes(staged: Staged) -> None:
    assert mode(staged.etc("")) == 0o750
    assert mode(staged.etc("gateway.toml")) == 0o640
    assert mode(staged.etc("a.toml")) == 0o640
    assert mode(staged.etc("ajam-gateway.env")) == 0o600
    units = staged.root / "etc" / "systemd" / "system"
    for unit in ("ajam-gateway.service", "ajam-gateway@.service"):
        assert (units / unit).read_text() == (ROOT / "deploy" / "systemd" / unit).read_text()
    share = staged.venv / "share" / "ajam-gateway"
    for kit in ("gateway.example.toml", "nginx", "fail2ban", "prometheus", "grafana"):
        assert (share / kit).exists(), kit
    # Staged: no user, no chown, no systemctl, and it says so.
    assert "no user, no chown, no apt-get, no systemctl" in staged.first
    assert "staged: would now run systemctl" in staged.first


def test_a_second_run_keeps_the_admins_files(staged: Staged) -> None:
    assert staged.etc("gateway.toml").read_text().endswith(MARK)
    assert staged.etc("ajam-gateway.env").read_text() == "AJAM_AMI_SECRET=kept\n"
    assert "keeping /etc/ajam-gateway" not in staged.first
    assert "upgrading the venv" in staged.second
    assert "created /etc/ajam-gateway/a.toml" in staged.second
    assert "ajam-gateway@a.service" in staged.second


def test_an_instance_config_writes_its_own_state_directory(staged: Staged) -> None:
    example = (ROOT / "config" / "gateway.example.toml").read_text()
    plain = staged.etc("gateway.toml").read_text()
    instance = staged.etc("a.toml").read_text()
    assert plain == example + MARK
    old = 'path = "/var/lib/ajam-gateway/history.sqlite3"'
    new = 'path = "/var/lib/ajam-gateway/{node_id}/history.sqlite3"'
    assert instance == example.replace(old, new)
    assert instance != example  # the example still has the path the sed rewrites
    # ajam-gateway@.service: its state directory is what {node_id} becomes.
    unit = (ROOT / "deploy" / "systemd" / "ajam-gateway@.service").read_text()
    assert "\nStateDirectory=ajam-gateway/%i\n" in unit
    assert " --node-id %i\n" in unit


def test_the_check_it_suggests_is_the_services_view(staged: Staged, tmp_path: Path) -> None:
    hint = (
        "check it with: /opt/ajam-gateway/bin/ajam-gateway check-config"
        " --env-file /etc/ajam-gateway/ajam-gateway.env"
    )
    assert f"{hint} /etc/ajam-gateway/gateway.toml\n" in staged.first
    assert (
        f"{hint} --env-file=-/etc/ajam-gateway/a.env --node-id a /etc/ajam-gateway/a.toml\n"
    ) in staged.second
    # That command, on the staged files: the instance's own history file.
    secrets = tmp_path / "ajam-gateway.env"
    secrets.write_text("AJAM_AMI_SECRET=x\nAJAM_ADMIN_SECRET='y z'\n")
    argv = [str(staged.venv / "bin" / "ajam-gateway"), "check-config", "--env-file", str(secrets)]
    argv += [f"--env-file=-{staged.etc('a.env')}", "--node-id", "a", str(staged.etc("a.toml"))]
    result = run(argv, env=clean_env())
    assert "history: SQLite /var/lib/ajam-gateway/a/history.sqlite3\n" in result.stdout


def test_the_installed_package_is_this_tree_in_the_venv(staged: Staged) -> None:
    python = staged.venv / "bin" / "python"
    probe = [str(python), "-c", "import gateway; print(gateway.__file__)"]
    where = run(probe, cwd=staged.root, env=clean_env())
    assert where.returncode == 0, where.stdout
    assert where.stdout.startswith(str(staged.venv / "lib")), where.stdout
    installed = Path(where.stdout.strip()).parent / "__main__.py"
    assert installed.read_text() == (ROOT / "gateway" / "__main__.py").read_text()
    assert not (ROOT / "build").exists()  # pip built a copy, not the tree


def test_the_installed_package_carries_the_dashboard(staged: Staged) -> None:
    # pip built a wheel from the tree: the dashboard is package data in it.
    python = staged.venv / "bin" / "python"
    code = "from gateway.http.staticfiles import package_static; print(package_static())"
    where = run([str(python), "-c", code], cwd=staged.root, env=clean_env())
    assert where.returncode == 0, where.stdout
    installed = Path(where.stdout.strip()) / "dashboard"
    assert installed.is_relative_to(staged.venv)
    source = ROOT / "gateway" / "http" / "static" / "dashboard"
    names = sorted(path.name for path in source.iterdir())
    assert names == sorted(path.name for path in installed.iterdir())
    assert {"index.html", "dashboard.css", "dashboard.mjs"} <= set(names)
    for name in names:
        assert (installed / name).read_bytes() == (source / name).read_bytes()


def test_the_installed_gateway_answers_readyz(staged: Staged, tmp_path: Path) -> None:
    # The installed example config, with the demo PBX's AMI account and a
    # history file the test may write; secrets from the environment, as
    # systemd would give them from ajam-gateway.env.
    config = staged.etc("gateway.toml").read_text()
    for old, new in {
        'username = "ajam-gateway"': 'username = "admin"',
        'path = "/var/lib/ajam-gateway/history.sqlite3"': f'path = "{tmp_path / "h.sqlite3"}"',
    }.items():
        assert old in config
        config = config.replace(old, new)
    adapted = tmp_path / "gateway.toml"
    adapted.write_text(config)
    port = free_port()
    argv = [str(staged.venv / "bin" / "ajam-gateway"), "--config", str(adapted), "--demo"]
    env = clean_env(AJAM_AMI_SECRET="admin-secret", AJAM_ADMIN_SECRET="s3cret")
    with running([*argv, "--port", str(port)], port, tmp_path / "log", env=env, cwd=tmp_path):
        status, body = get(f"http://127.0.0.1:{port}/readyz")
        assert (status, body) == (200, "ready\n")
        status, body = get(f"http://127.0.0.1:{port}/asterisk/static/dashboard/")
        assert status == 200
        assert '<script type="module" src="dashboard.mjs">' in body
        # The example's own user, with the secret from the environment.
        login = "/asterisk/rawman?action=login&username=admin&secret=s3cret"
        status, body = get(f"http://127.0.0.1:{port}{login}")
        assert (status, body) == (
            200,
            "Response: Success\r\nMessage: Authentication accepted\r\n\r\n",
        )


def test_a_bad_instance_id_is_refused_before_anything_is_done(tmp_path: Path) -> None:
    result = run(["bash", str(INSTALL), "--root", str(tmp_path / "r"), "--instance", "A-1"])
    assert result.returncode == 1
    assert "instance id 'A-1' is not [a-z0-9]{1,8}" in result.stdout
    assert not (tmp_path / "r" / "opt").exists()


def test_install_sh_is_shellcheck_clean() -> None:
    shellcheck = tool("shellcheck", "shellcheck")
    result = run([shellcheck, "--severity=style", str(INSTALL)])
    assert result.returncode == 0, result.stdout
