"""The client address: X-Forwarded-For believed only from trusted proxies."""

from __future__ import annotations

import ipaddress

import pytest

from gateway.access.users import Network
from gateway.http.clientaddr import MAX_HOPS, client_address, parse_ip


def nets(*texts: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t) for t in texts)


PROXIES = nets("10.0.0.0/8", "fd00::/8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", "192.0.2.1"),
        (" 192.0.2.1 ", "192.0.2.1"),
        ("192.0.2.1:8080", "192.0.2.1"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]:8080", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("::ffff:192.0.2.9", "192.0.2.9"),
        ("unknown", None),
        ("", None),
        ("192.0.2.1\r\nX: y", None),
        ("_hidden", None),
    ],
)
def test_parse_ip(text: str, expected: str | None) -> None:
    parsed = parse_ip(text)
    assert (None if parsed is None else str(parsed)) == expected


def test_untrusted_peer_is_the_client_whatever_it_claims() -> None:
    assert client_address("192.0.2.1", ["203.0.113.9"], PROXIES) == "192.0.2.1"
    assert client_address("192.0.2.1", ["203.0.113.9"], ()) == "192.0.2.1"


def test_trusted_peer_gives_the_right_most_untrusted_hop() -> None:
    # The client forged the first entry; our proxies appended the rest.
    xff = ["1.2.3.4, 203.0.113.9, 10.1.1.1"]
    assert client_address("10.0.0.2", xff, PROXIES) == "203.0.113.9"


def test_several_headers_form_one_chain() -> None:
    xff = ["1.2.3.4", "203.0.113.9", "10.1.1.1"]
    assert client_address("10.0.0.2", xff, PROXIES) == "203.0.113.9"


def test_trusted_peer_without_header_is_the_client() -> None:
    assert client_address("10.0.0.2", [], PROXIES) == "10.0.0.2"


def test_all_trusted_gives_the_left_most() -> None:
    assert client_address("10.0.0.2", ["10.9.9.9, 10.1.1.1"], PROXIES) == "10.9.9.9"


def test_garbage_hop_stops_at_the_last_trusted_one() -> None:
    assert client_address("10.0.0.2", ["unknown"], PROXIES) == "10.0.0.2"
    assert client_address("10.0.0.2", ["203.0.113.9, junk, 10.1.1.1"], PROXIES) == "10.1.1.1"


def test_ipv6_proxies_and_clients() -> None:
    assert client_address("fd00::1", ["[2001:db8::7]:4711"], PROXIES) == "2001:db8::7"
    assert client_address("2001:db8::1", ["192.0.2.1"], PROXIES) == "2001:db8::1"


def test_an_unparsable_peer_is_kept_as_is() -> None:
    assert client_address("", ["192.0.2.1"], PROXIES) == ""


def test_a_huge_chain_is_bounded() -> None:
    xff = [", ".join(["10.2.2.2"] * (MAX_HOPS * 10))]
    assert client_address("10.0.0.2", xff, PROXIES) == "10.2.2.2"
