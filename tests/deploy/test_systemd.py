"""deploy/systemd: both units pass ``systemd-analyze verify``, carry the
hardening ``systemd-analyze security`` asks for (and score well on it), and
agree with the gateway's contracts (node id, drain, state directory).

``verify`` checks that ExecStart's program exists and is executable; the
units name /opt/ajam-gateway/bin/ajam-gateway, which exists only after
deploy/install.sh. So the test verifies copies whose ExecStart path (and
only that) points at a stub script in the test's directory; every other
line is the shipped one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.config import HttpConfig, LimitsConfig, check_node_id
from tests.support.deploykit import run, tool
from tests.support.procs import ROOT

SYSTEMD = ROOT / "deploy" / "systemd"
TEMPLATE = SYSTEMD / "ajam-gateway@.service"
PLAIN = SYSTEMD / "ajam-gateway.service"
BINARY = "/opt/ajam-gateway/bin/ajam-gateway"

HARDENING = {
    # What `systemd-analyze security` flagged on the first unit (3.7 "OK"),
    # plus what the unit already had.
    "SystemCallFilter": "@system-service",
    "RestrictSUIDSGID": "yes",
    "ProtectClock": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectHostname": "yes",
    "RestrictRealtime": "yes",
    "UMask": "0077",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "CapabilityBoundingSet": "",
    "MemoryDenyWriteExecute": "yes",
}
MAX_EXPOSURE = 2.0
"""systemd-analyze security's overall exposure (0 best, 10 worst): 3.7 before
this hardening, 1.1 after; what is left is the network access a gateway needs."""


def values(unit: Path, key: str) -> list[str]:
    return [
        line.split("=", 1)[1]
        for line in unit.read_text().splitlines()
        if line.startswith(f"{key}=")
    ]


def service_section(unit: Path) -> list[str]:
    """The [Service] lines, without comments."""
    lines = unit.read_text().splitlines()
    start = lines.index("[Service]") + 1
    end = next(n for n in range(start, len(lines)) if lines[n].startswith("["))
    return [line for line in lines[start:end] if line and not line.startswith("#")]


def stubbed(unit: Path, directory: Path, name: str) -> Path:
    """A copy of ``unit`` named ``name`` whose ExecStart program is a stub."""
    stub = directory / "ajam-gateway"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    text = unit.read_text()
    assert text.count(BINARY) == 1, "ExecStart is the one place the venv's program is named"
    copy = directory / name
    copy.write_text(text.replace(BINARY, str(stub)))
    return copy


def verify(unit: Path) -> str:
    analyze = tool("systemd-analyze", "systemd")
    result = run([analyze, "verify", str(unit)], cwd=unit.parent)
    # verify exits 0 on unknown keys and bad values: its output is the verdict.
    return f"exit {result.returncode}: {result.stdout}" if result.returncode else result.stdout


@pytest.mark.parametrize(
    ("unit", "name"),
    [(TEMPLATE, "ajam-gateway@a.service"), (TEMPLATE, "ajam-gateway@.service"), (PLAIN, None)],
)
def test_systemd_analyze_verify_passes(unit: Path, name: str | None, tmp_path: Path) -> None:
    assert verify(stubbed(unit, tmp_path, name or unit.name)) == ""


def test_verify_would_catch_a_bad_line(tmp_path: Path) -> None:
    copy = stubbed(PLAIN, tmp_path, PLAIN.name)
    copy.write_text(copy.read_text().replace("ProtectClock=yes", "ProtectClok=yes"))
    assert "Unknown key 'ProtectClok'" in verify(copy)


@pytest.mark.parametrize("unit", [TEMPLATE, PLAIN])
def test_the_hardening_is_there(unit: Path) -> None:
    for key, value in HARDENING.items():
        assert value in values(unit, key), key
    assert values(unit, "User") == ["ajam-gateway"]
    assert values(unit, "SystemCallErrorNumber") == ["EPERM"]
    # prometheus-client's process_* metrics read /proc/stat: no ProcSubset=pid.
    assert values(unit, "ProcSubset") == []


def test_both_units_run_the_same_service_but_for_the_instance() -> None:
    instance = {
        "EnvironmentFile=-/etc/ajam-gateway/%i.env": None,
        "StateDirectory=ajam-gateway/%i": "StateDirectory=ajam-gateway",
        f"ExecStart={BINARY} --config /etc/ajam-gateway/%i.toml --node-id %i": (
            f"ExecStart={BINARY} --config /etc/ajam-gateway/gateway.toml"
        ),
    }
    template = [instance.get(line, line) for line in service_section(TEMPLATE)]
    assert [line for line in template if line is not None] == service_section(PLAIN)


def test_the_template_names_the_node_and_its_files() -> None:
    [exec_start] = values(TEMPLATE, "ExecStart")
    assert exec_start == f"{BINARY} --config /etc/ajam-gateway/%i.toml --node-id %i"
    assert values(TEMPLATE, "StateDirectory") == ["ajam-gateway/%i"]
    assert values(TEMPLATE, "EnvironmentFile") == [
        "-/etc/ajam-gateway/ajam-gateway.env",  # shared secrets, 0600
        "-/etc/ajam-gateway/%i.env",  # this instance's own
    ]
    assert values(PLAIN, "ExecStart") == [f"{BINARY} --config /etc/ajam-gateway/gateway.toml"]
    assert values(PLAIN, "StateDirectory") == ["ajam-gateway"]
    assert check_node_id("a") == "a"  # the instance names the tests use are node ids


@pytest.mark.parametrize("unit", [TEMPLATE, PLAIN])
def test_the_unit_outwaits_the_drain_and_holds_the_connections(unit: Path) -> None:
    assert values(unit, "ExecReload") == ["/bin/kill -HUP $MAINPID"]
    assert values(unit, "KillSignal") == ["SIGTERM"]
    assert values(unit, "Restart") == ["on-failure"]
    [stop] = values(unit, "TimeoutStopSec")
    assert int(stop) > HttpConfig().drain_time + 5  # drain, last replies, AMI Logoff
    [files] = values(unit, "LimitNOFILE")
    assert int(files) > 2 * LimitsConfig().max_connections


@pytest.mark.parametrize("unit", [TEMPLATE, PLAIN])
def test_systemd_analyze_security_scores_it_well(unit: Path) -> None:
    analyze = tool("systemd-analyze", "systemd")
    result = run([analyze, "security", "--offline=true", "--no-pager", str(unit)], cwd=SYSTEMD)
    if "--offline" in result.stdout and result.returncode:
        pytest.skip("this systemd-analyze has no --offline (systemd < 250)")
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match is not None, result.stdout
    assert float(match.group(1)) <= MAX_EXPOSURE, result.stdout
