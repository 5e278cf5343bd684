"""A throwaway self-signed certificate for TLS tests, made by the openssl CLI.

The CLI keeps TLS tests free of a Python crypto dependency; a machine
without it skips those tests with the reason.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True, slots=True)
class Cert:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def self_signed(directory: Path) -> Cert:
    """A certificate for 127.0.0.1 and localhost, valid for a day."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command line tool is not installed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=localhost"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return Cert(cert, key)


def signed_by_test_ca(directory: Path) -> tuple[Path, Cert]:
    """A test CA (its certificate) and a server certificate it signed for
    127.0.0.1 and localhost, both valid for a day: what a client that
    verifies against its own CA file sees."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command line tool is not installed")
    ca_cert, ca_key = directory / "ca.pem", directory / "ca-key.pem"
    cert, key, request = directory / "server.pem", directory / "server-key.pem", directory / "r.csr"
    extensions = directory / "server.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n", encoding="ascii")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    make_ca = ["req", "-x509", *ec, "-days", "1", "-subj", "/CN=ajam test CA"]
    make_request = ["req", "-new", *ec, "-subj", "/CN=localhost"]
    sign = ["x509", "-req", "-in", str(request), "-CA", str(ca_cert), "-CAkey", str(ca_key)]
    sign += ["-CAcreateserial", "-days", "1", "-extfile", str(extensions), "-out", str(cert)]
    for command in (
        [openssl, *make_ca, "-keyout", str(ca_key), "-out", str(ca_cert)],
        [openssl, *make_request, "-keyout", str(key), "-out", str(request)],
        [openssl, *sign],
    ):
        subprocess.run(command, check=True, capture_output=True, timeout=30)
    return ca_cert, Cert(cert, key)
