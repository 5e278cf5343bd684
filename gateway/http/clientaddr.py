"""The client's address: the TCP peer, or ``X-Forwarded-For`` behind trusted proxies.

``X-Forwarded-For`` is only believed when the immediate peer is in
``[http] trusted_proxies``.  The chain is then walked right to left (the
right-most entry was written by the proxy nearest to us), skipping every
hop that is itself a trusted proxy; the first untrusted hop is the client.
Anything left of it was written by the client and is never believed.  A hop
that is not an IP address ends the walk at the last trusted hop, so garbage
can never become an address that an ACL or a limit is keyed on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Final

from gateway.access.users import Network

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_HOPS: Final = 32
"""More hops than any real proxy chain; bounds the work a forged header costs."""


def parse_ip(text: str) -> IpAddress | None:
    """``192.0.2.1``, ``192.0.2.1:8080``, ``[2001:db8::1]:8080``, ``2001:db8::1``."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: IpAddress, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def client_address(peer: str, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The address to use for ACLs, limits and logs (as text)."""
    if not trusted:
        return peer
    current = parse_ip(peer)
    if current is None:
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",")][-MAX_HOPS:]
    for hop in reversed(hops):
        if not is_trusted(current, trusted):
            break
        address = parse_ip(hop)
        if address is None:
            break
        current = address
    return str(current)
