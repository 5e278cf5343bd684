"""The PROXY protocol v1 line a trusted TCP proxy (nginx) sends first."""

from __future__ import annotations

import ipaddress

import pytest

from gateway.amiserver.proxyline import client_of, trusted

PROXIES = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"))


@pytest.mark.parametrize(
    ("line", "client"),
    [
        (b"PROXY TCP4 192.0.2.7 10.0.0.5 40000 5039\r\n", ("192.0.2.7", 40000)),
        (b"PROXY TCP6 2001:db8::7 2001:db8::1 1 5039\r\n", ("2001:db8::7", 1)),
        (b"PROXY UNKNOWN\r\n", None),
        (b"PROXY TCP4 2001:db8::7 10.0.0.5 40000 5039\r\n", None),  # family mismatch
        (b"PROXY TCP4 192.0.2.7 10.0.0.5 040000 5039\r\n", None),  # leading zero
        (b"PROXY TCP4 192.0.2.7 10.0.0.5 +4000 5039\r\n", None),
        (b"PROXY TCP4 192.0.2.7 10.0.0.5 70000 5039\r\n", None),
        (b"PROXY TCP4 192.0.2.7 10.0.0.5 0 5039\r\n", None),
        (b"PROXY TCP4 192.0.2.7  10.0.0.5 40000 5039\r\n", None),
        (b"PROXY TCP4 192.0.2.7 10.0.0.5 40000 5039\n", None),
        (b"PROXY TCP4 192.0.2.777 10.0.0.5 40000 5039\r\n", None),
        (b"PROXY TCP4 \xff.0.2.7 10.0.0.5 40000 5039\r\n", None),
        (b"Action: Login\r\n", None),
        (b"PROXY TCP6 " + b"1" * 200 + b" ::1 1 2\r\n", None),
    ],
)
def test_the_client_a_line_names(line: bytes, client: tuple[str, int] | None) -> None:
    assert client_of(line) == client


def test_only_listed_proxies_are_trusted() -> None:
    assert trusted("127.0.0.1", PROXIES)
    assert trusted("10.1.2.3", PROXIES)
    assert not trusted("192.0.2.7", PROXIES)
    assert not trusted("", PROXIES)
    assert not trusted("127.0.0.1", ())
