"""A port the gateway cannot listen on is one line naming the address, the
port and who usually holds it, and an exit code of 1: never a traceback."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli.listen import listen_error
from tests.support.clirun import gateway, last_line, without
from tests.support.procs import free_port

SETTINGS = {"host_setting": "[http] host (or --host)", "port_setting": "[http] port (or --port)"}


def held(port: int) -> Iterator[socket.socket | None]:
    """Listen on ``port`` (None if something else already does)."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        yield None
        return
    with sock:
        sock.listen()
        yield sock


def refused(*args: str, prefix: tuple[str, ...] = ()) -> str:
    result = gateway("--demo", *args, prefix=prefix)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    line = last_line(result.stderr)
    assert line.startswith("ajam-gateway: cannot listen for HTTP on "), result.stderr
    return line


def test_a_port_in_use() -> None:
    port = free_port()
    for _ in held(port):
        line = refused("--port", str(port))
    assert line == (
        f"ajam-gateway: cannot listen for HTTP on 127.0.0.1:{port}: the port is already in use,"
        " usually by another ajam-gateway instance or another program; see who holds it:"
        f" ss -ltnp 'sport = :{port}'; choose another [http] port (or --port), or stop that"
        " program"
    )


def test_port_8088_names_asterisks_http_server() -> None:
    for _ in held(8088):  # held by this test, or already by something else
        line = refused("--port", "8088")
    assert "127.0.0.1:8088: the port is already in use, usually by Asterisk's own HTTP" in line
    assert "(http.conf bindport, 8088 by default) or another ajam-gateway instance" in line


def test_an_address_not_of_this_machine() -> None:
    line = refused("--host", "192.0.2.1", "--port", str(free_port()))  # TEST-NET-1
    assert "on 192.0.2.1:" in line
    assert "192.0.2.1 is not an address of this machine (ip -brief address" in line
    assert "fix [http] host (or --host)" in line


def test_a_privileged_port() -> None:
    start = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")
    if start.exists() and int(start.read_text()) <= 80:
        pytest.skip("this kernel lets anyone listen on port 80")
    line = refused("--port", "80", prefix=without("net_bind_service"))
    assert line == (
        "ajam-gateway: cannot listen for HTTP on 127.0.0.1:80: permission denied: ports below"
        " 1024 need root or CAP_NET_BIND_SERVICE (the shipped systemd unit grants none); use a"
        " port from 1024 up in [http] port (or --port), with nginx in front"
    )


@pytest.mark.parametrize(
    ("port", "error", "fragment"),
    [
        (5039, errno.EADDRINUSE, "usually by Asterisk's AMI over TLS (manager.conf tlsbindaddr"),
        (5038, errno.EADDRINUSE, "usually by Asterisk's AMI (manager.conf port, 5038 by default)"),
        (8089, errno.EADDRINUSE, "usually by Asterisk's own HTTPS server"),
        (8088, errno.EACCES, "permission denied (a security policy: SELinux, AppArmor"),
        (443, errno.EACCES, "permission denied: ports below 1024 need root or CAP_NET_BIND"),
        (8088, errno.EADDRNOTAVAIL, "::1 is not an address of this machine (ip -brief address"),
        (8088, errno.EMFILE, ": Too many open files"),
    ],
)
def test_messages(port: int, error: int, fragment: str) -> None:
    text = listen_error("AMI", "::1", port, OSError(error, os.strerror(error)), **SETTINGS)
    assert text.startswith(f"cannot listen for AMI on [::1]:{port}: ")
    assert fragment in text


def test_an_unresolvable_host() -> None:
    error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    text = listen_error("HTTP", "pbx.invalid", 8088, error, **SETTINGS)
    assert text == (
        "cannot listen for HTTP on pbx.invalid:8088: cannot resolve 'pbx.invalid'"
        " (Name or service not known); fix [http] host (or --host)"
    )
