"""The PROXY protocol's v1 header, sans-I/O: the client a trusted proxy
(nginx's ``proxy_protocol on``) relays a connection for.

Behind a TCP proxy every connection comes from the proxy's address; the
proxy then writes one line before any client byte (haproxy's PROXY
protocol, version 1, which nginx's stream module speaks)::

    PROXY TCP4 192.0.2.7 10.0.0.5 40000 5039\\r\\n
    PROXY TCP6 2001:db8::7 2001:db8::1 40000 5039\\r\\n
    PROXY UNKNOWN\\r\\n

The source address and port become the client's, for ``permit``/``deny``,
the login limits, the security events and fail2ban.  Only connections from
``[ami_server] trusted_proxies`` are read so, and each must begin with the
line: anything else, or ``UNKNOWN`` (a proxy's own health check), closes the
connection before the banner.  A client never gets to claim an address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Final

from gateway.access.users import Network

MAX_LINE: Final = 107
"""The specification's longest v1 line, CRLF included."""
FAMILIES: Final = {b"TCP4": 4, b"TCP6": 6}


def trusted(address: str, proxies: Sequence[Network]) -> bool:
    """Whether the TCP peer is one of the configured proxies."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_of(line: bytes) -> tuple[str, int] | None:
    """(address, port) of the client a v1 header names; None for anything
    that is not one (``UNKNOWN`` included: no client to name)."""
    if len(line) > MAX_LINE or not line.endswith(b"\r\n"):
        return None
    parts = line[:-2].split(b" ")
    if len(parts) != 6 or parts[0] != b"PROXY" or parts[1] not in FAMILIES:
        return None
    _, family, source, _, source_port, _ = parts
    try:
        address = ipaddress.ip_address(source.decode("ascii"))
        port = int(source_port)
    except (UnicodeDecodeError, ValueError):
        return None
    if address.version != FAMILIES[family] or not 0 < port < 65536:
        return None
    if not source_port.isdigit() or (len(source_port) > 1 and source_port.startswith(b"0")):
        return None
    return str(address), port
