"""Real nginx as a test subprocess, running deploy/nginx/ajam-gateway.conf.

The shipped file is templated only where a test must differ from a server:
the instances' and nginx's own ports and the certificate.  Each replacement
must find its text, so the test breaks loudly if the shipped file changes
shape.  nginx runs in the foreground with every path under the test's
directory; nothing is installed or written outside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import pytest

from tests.support.certs import Cert
from tests.support.procs import ROOT

SHIPPED = ROOT / "deploy" / "nginx" / "ajam-gateway.conf"
SHIPPED_STREAM = ROOT / "deploy" / "nginx" / "ajam-gateway-ami.conf"
STREAM_INSTANCES: tuple[str, ...] = ("127.0.0.1:5101", "127.0.0.1:5102")
"""The shipped stream file's instances (their [ami_server] ports)."""
STREAM_MODULES: tuple[Path, ...] = (
    Path("/usr/lib/nginx/modules/ngx_stream_module.so"),
    Path("/usr/share/nginx/modules/ngx_stream_module.so"),
)
"""Where Debian's libnginx-mod-stream puts the stream module."""
INSTANCES: Mapping[str, str] = {"a": "127.0.0.1:8101", "b": "127.0.0.1:8102"}
"""The shipped file's instances: node id -> address."""


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        pytest.skip("nginx is not installed (.ci/run installs Debian's package)")
    return found


def templated(shipped: Path, port: int, listen: int, cert: Cert, more: dict[str, str]) -> str:
    """A shipped file with the test's listen port and certificate, and ``more``
    replacements; each must find its text."""
    text = shipped.read_text()
    replacements = {
        f"listen {port} ssl;": f"listen 127.0.0.1:{listen} ssl;",
        f"listen [::]:{port} ssl;": "",
        "/etc/ssl/ajam/fullchain.pem": str(cert.cert),
        "/etc/ssl/ajam/privkey.pem": str(cert.key),
        **more,
    }
    for old, new in replacements.items():
        assert old in text, f"{old!r} is no longer in {shipped.name}"
        text = text.replace(old, new)
    return text


def site_config(ports: Mapping[str, int], listen: int, cert: Cert, log_dir: Path) -> str:
    """The shipped site file with test ports and the test's certificate."""
    more = {"/var/log/nginx/ajam-gateway.access.log": str(log_dir / "ajam-access.log")}
    for node, address in INSTANCES.items():
        more[address] = f"127.0.0.1:{ports[node]}"
    return templated(SHIPPED, 443, listen, cert, more)


def main_config(prefix: Path, site: Path) -> str:
    """A minimal nginx.conf around the site file, every path under ``prefix``."""
    user = "user root root;" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
daemon off;
master_process on;
worker_processes 2;
{user}
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} info;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix / "access.log"};
{temp}
    include {site};
}}
"""


def stream_config(ports: tuple[int, ...], listen: int, cert: Cert) -> str:
    """The shipped stream file with test ports and the test's certificate."""
    more = {
        address: f"127.0.0.1:{port}" for address, port in zip(STREAM_INSTANCES, ports, strict=True)
    }
    return templated(SHIPPED_STREAM, 5039, listen, cert, more)


def stream_main_config(prefix: Path, stream: Path) -> str:
    """A minimal nginx.conf around the stream file (the stream module loaded
    when this nginx has it as a dynamic module)."""
    module = next((path for path in STREAM_MODULES if path.exists()), None)
    if module is None:
        pytest.skip("nginx's stream module is not installed (.ci/run installs libnginx-mod-stream)")
    user = "user root root;" if os.geteuid() == 0 else ""
    return f"""
load_module {module};
daemon off;
master_process on;
worker_processes 1;
{user}
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} info;
events {{ worker_connections 1024; }}
include {stream};
"""


class Nginx:
    def __init__(self, prefix: Path, port: int) -> None:
        self.prefix = prefix
        self.port = port
        self.base = f"https://127.0.0.1:{port}"
        self._proc: asyncio.subprocess.Process | None = None
        self._out: IO[bytes] | None = None

    def write(self, ports: Mapping[str, int], cert: Cert) -> Path:
        self.prefix.mkdir(parents=True, exist_ok=True)
        site = self.prefix / "ajam-gateway.conf"
        site.write_text(site_config(ports, self.port, cert, self.prefix))
        conf = self.prefix / "nginx.conf"
        conf.write_text(main_config(self.prefix, site))
        return conf

    def write_stream(self, ports: tuple[int, ...], cert: Cert) -> Path:
        """The shipped stream file (the AMI door) in front of ``ports``."""
        self.prefix.mkdir(parents=True, exist_ok=True)
        stream = self.prefix / "ajam-gateway-ami.conf"
        stream.write_text(stream_config(ports, self.port, cert))
        conf = self.prefix / "nginx.conf"
        conf.write_text(stream_main_config(self.prefix, stream))
        return conf

    async def start(self, conf: Path) -> None:
        binary = nginx_binary()
        check = await asyncio.create_subprocess_exec(
            *(binary, "-t", "-q", "-p", str(self.prefix), "-c", str(conf)),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await check.communicate()
        assert check.returncode == 0, output.decode(errors="replace")
        self._out = (self.prefix / "nginx.out").open("wb")
        self._proc = await asyncio.create_subprocess_exec(
            *(binary, "-p", str(self.prefix), "-c", str(conf)),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._out,
            stderr=asyncio.subprocess.STDOUT,
        )
        async with asyncio.timeout(10):
            while True:
                with contextlib.suppress(OSError):
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                    writer.close()
                    return
                assert self._proc.returncode is None, self.log()
                await asyncio.sleep(0.05)

    def log(self) -> str:
        parts = [self.prefix / "nginx.out", self.prefix / "error.log"]
        return "\n".join(p.read_text(errors="replace") for p in parts if p.exists())

    async def stop(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            proc.terminate()  # nginx: SIGTERM is a fast shutdown
            try:
                async with asyncio.timeout(5):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._out is not None:
            self._out.close()
            self._out = None
