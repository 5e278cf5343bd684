from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.deploykit import (
    CHECKOUT_GATEWAY,
    INSTALL,
    MARK,
    Staged,
    attack,
    config,
    get,
    python_with_venv,
    run,
    running,
)
from tests.support.procs import checkout_env, free_port

SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


@pytest.fixture(scope="session")
def exported_names(tmp_path_factory: pytest.TempPathFactory) -> frozenset[str]:
    """Every series name this checkout's gateway exposes at /metrics, read
    from a running demo (with call history) after one failed login, so that
    the labelled login counter has a sample too."""
    port = free_port()
    log = tmp_path_factory.mktemp("metrics") / "gateway.log"
    argv = (*CHECKOUT_GATEWAY, "--demo", "--port", str(port))
    with running(argv, port, log, env=checkout_env()) as base:
        status, _ = get(f"{base}/asterisk/rawman?action=login&username=admin&secret=wrong")
        assert status == 200
        status, text = get(f"{base}/metrics")
    assert status == 200
    return frozenset(series_names(text))


def series_names(exposition: str) -> set[str]:
    """Names declared by ``# TYPE`` (with a histogram's own series) and sampled."""
    names: set[str] = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", exposition, re.M):
        names.add(name)
        names.update(name + suffix for suffix in SUFFIXES.get(kind, ()))
    names.update(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", exposition, re.M))
    return names


@pytest.fixture(scope="module", params=["text", "json"])
def gateway_log(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gateway's own output after the attack, in one log format."""
    directory = tmp_path_factory.mktemp(f"fail2ban-{request.param}")
    port = free_port()
    path = config(directory / "gateway.toml", port, request.param)
    log = directory / "gateway.log"
    argv = (*CHECKOUT_GATEWAY, "--config", str(path), "--demo")
    with running(argv, port, log, env=checkout_env()) as base:
        attack(base)
    return log


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Staged:
    root = tmp_path_factory.mktemp("install") / "root"
    python = python_with_venv()
    install = ["bash", str(INSTALL), "--root", str(root), "--python", python]
    first = run(install)
    assert first.returncode == 0, first.stdout
    config = root / "etc" / "ajam-gateway" / "gateway.toml"
    config.write_text(config.read_text() + MARK)
    env = root / "etc" / "ajam-gateway" / "ajam-gateway.env"
    env.write_text("AJAM_AMI_SECRET=kept\n")
    second = run([*install, "--instance", "a", "--no-start"])
    assert second.returncode == 0, second.stdout
    return Staged(root, first.stdout, second.stdout)
