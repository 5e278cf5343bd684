"""deploy/fail2ban on Debian's fail2ban (``fail2ban-regex``), fed the lines
the gateway itself wrote in this test, in both log formats.

The gateway runs behind a trusted "proxy" (the test, from 127.0.0.1, sends
``X-Forwarded-For: 192.0.2.7``), and 192.0.2.7 fails logins every way it
can: wrong secret, unknown user, a permit/deny refusal, HTTP Basic, and user
names (and a query) built to write another address, 203.0.113.66, into a
line that fail2ban would match. Every failure line must match, with
192.0.2.7 and nothing else; a success must not.

The same lines are then read as journald holds them (the jail's backend):
written into a journal file by ``systemd-journal-remote``, under the units'
trusted fields, beside a forged line from another unit, and read with the
filter's own ``journalmatch``.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from gateway.logs import FORMATS, formatter
from gateway.simulator import Simulator
from tests.support.amidoor import door_client, door_gateway
from tests.support.deploykit import (
    CLIENT,
    FAILURE,
    FORGED,
    HOSTILE_NAMES,
    VICTIM,
    run,
    tool,
    unavailable,
)
from tests.support.procs import ROOT

FILTER = ROOT / "deploy" / "fail2ban" / "filter.d" / "ajam-gateway.conf"
JAIL = ROOT / "deploy" / "fail2ban" / "jail.d" / "ajam-gateway.conf"


def failures(log: Path) -> list[str]:
    lines = log.read_text(encoding="utf-8").splitlines()
    found = [line for line in lines if FAILURE in line and "gateway.security" in line]
    assert VICTIM in log.read_text(encoding="utf-8")  # the hostile text did reach the log
    assert len(found) >= 3 + len(HOSTILE_NAMES), found  # every attempt but none lost
    return found


def banned(source: str) -> list[str]:
    """The address of each line fail2ban's filter matches, in order."""
    regex = tool("fail2ban-regex", "fail2ban")
    result = run([regex, "--out", "ip", source, str(FILTER)])
    assert result.returncode == 0, result.stdout
    return result.stdout.split()


def test_the_filter_bans_the_client_of_every_failure_and_no_one_else(gateway_log: Path) -> None:
    expected = [CLIENT] * len(failures(gateway_log))
    assert banned(str(gateway_log)) == expected


def test_a_success_matches_nothing(tmp_path: Path, gateway_log: Path) -> None:
    successes = [
        line for line in gateway_log.read_text().splitlines() if "ajam login success" in line
    ]
    assert successes
    only = tmp_path / "success.log"
    only.write_text("\n".join(successes) + "\n")
    assert banned(str(only)) == []


def test_journald_lines_of_the_gateways_units_only(tmp_path: Path, gateway_log: Path) -> None:
    slice_name = f"system-{escaped_unit_name()}.slice"  # where systemd puts ajam-gateway@*
    units = [("ajam-gateway.service", "system.slice"), ("ajam-gateway@a.service", slice_name)]
    entries = [
        journal_entry(line, unit, in_slice)
        for unit, in_slice in units
        for line in gateway_log.read_text(encoding="utf-8").splitlines()
    ]
    # Any local user can log under the identifier "ajam-gateway"; the
    # journalmatch is on trusted fields, so this line must not count.
    entries.append(journal_entry(FORGED, "user@1000.service", "user-1000.slice"))
    journal = write_journal(tmp_path, entries)
    expected = [CLIENT] * (2 * len(failures(gateway_log)))
    assert banned(f"systemd-journal[journalfiles={journal}]") == expected


def test_the_jail_reads_the_journal_with_the_filters_match(tmp_path: Path) -> None:
    """The jail and the filter as fail2ban's client reads them, installed in a
    copy of the package's /etc/fail2ban."""
    client = tool("fail2ban-client", "fail2ban")
    if not Path("/etc/fail2ban/jail.conf").exists():
        unavailable("fail2ban's /etc/fail2ban", "fail2ban")
    conf = tmp_path / "fail2ban"
    shutil.copytree("/etc/fail2ban", conf)
    shutil.copy(FILTER, conf / "filter.d" / FILTER.name)
    shutil.copy(JAIL, conf / "jail.d" / JAIL.name)
    dump = run([client, "-c", str(conf), "--dump"])
    assert dump.returncode == 0, dump.stdout
    assert "['add', 'ajam-gateway', 'systemd']" in dump.stdout
    slice_match = repr("_SYSTEMD_SLICE=system-ajam\\x2dgateway.slice")
    match = f"'_SYSTEMD_UNIT=ajam-gateway.service', '+', {slice_match}"
    assert f"['set', 'ajam-gateway', 'addjournalmatch', {match}]" in dump.stdout
    assert "['set', 'ajam-gateway', 'maxretry', 5]" in dump.stdout


def escaped_unit_name() -> str:
    escape = tool("systemd-escape", "systemd")
    result = run([escape, "ajam-gateway"])
    assert result.returncode == 0, result.stdout
    return result.stdout.strip()


def journal_entry(message: str, unit: str, in_slice: str) -> str:
    """One entry in journald's export format, as a service's stderr line is stored."""
    now = int(time.time() * 1_000_000)
    fields = {
        "__REALTIME_TIMESTAMP": str(now),
        "__MONOTONIC_TIMESTAMP": str(time.monotonic_ns() // 1000),
        "_BOOT_ID": "0123456789abcdef0123456789abcdef",
        "_HOSTNAME": "pbx",
        "_PID": "4242",
        "_TRANSPORT": "stdout",
        "SYSLOG_IDENTIFIER": "ajam-gateway",
        "_SYSTEMD_UNIT": unit,
        "_SYSTEMD_SLICE": in_slice,
        "PRIORITY": "6",
        "MESSAGE": message,
    }
    assert "\n" not in message
    return "".join(f"{key}={value}\n" for key, value in fields.items()) + "\n"


def write_journal(directory: Path, entries: list[str]) -> Path:
    remote = tool(
        "systemd-journal-remote",
        "systemd-journal-remote",
        "/lib/systemd/systemd-journal-remote",
        "/usr/lib/systemd/systemd-journal-remote",
    )
    fail2ban_python = Path("/usr/bin/python3")
    if run([str(fail2ban_python), "-c", "import systemd.journal"]).returncode:
        unavailable("python3-systemd (fail2ban's journal reader)", "python3-systemd")
    export = directory / "export.txt"
    export.write_text("".join(entries), encoding="utf-8")
    journal = directory / "gateway.journal"
    result = run([remote, f"--output={journal}", str(export)], cwd=directory)
    assert result.returncode == 0, result.stdout
    assert os.path.getsize(journal) > 0
    return journal


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_the_ami_doors_failed_logins_match_in_both_formats(
    tmp_path: Path, simulator: Simulator
) -> None:
    """An AMI client's failed logins write the very lines an HTTP client's do
    (one login gate): the filter bans the client's address from them too."""
    handler = Keep()
    records = handler.records
    security = logging.getLogger("gateway.security")
    security.addHandler(handler)
    try:
        async with door_gateway(simulator.port) as run_door:
            for secret in ("wrong", "also-wrong"):
                client = await door_client(run_door.port, None)
                client.send("Action: Login", "Username: admin", f"Secret: {secret}")
                await client.until("Authentication failed")
                client.close()
            client = await door_client(run_door.port, None)
            client.send("Action: Login", "Username: nobody", "Secret: x")
            await client.until("Authentication failed")
            client.close()
    finally:
        security.removeHandler(handler)
    failed = [r for r in records if r.levelno == logging.WARNING]
    assert len(failed) == 3
    for name in FORMATS:
        log = tmp_path / f"door-{name}.log"
        log.write_text("".join(formatter(name).format(r) + "\n" for r in records))
        assert banned(str(log)) == ["127.0.0.1"] * 3
