"""Per-request client address.

``admit``, called by the gateway's one middleware (``gateway.http.middleware``),
finds the client's address once (``gateway.http.clientaddr``:
``X-Forwarded-For`` only behind a trusted proxy) and stores it on the request
for everything after it (the AJAM handler's ``Peer``, the access log, the
rates of what costs: ``gateway.core.ratelimit.CostRates``).  A request
itself is not counted: a long poll paces itself (issue 11, item 14).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aiohttp import web

from gateway.access.users import Network
from gateway.core.replies import Peer
from gateway.http.clientaddr import client_address

CLIENT_KEY: Final = web.RequestKey("client", str)
"""The client's address, as the middleware found it."""


def peer_address(request: web.BaseRequest) -> str:
    """The TCP peer's address, '' when the transport is gone."""
    if request.remote:
        return request.remote
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport else None
    return str(peer[0]) if peer else ""


def client_of(request: web.BaseRequest) -> str:
    """The client's address as the middleware found it, else the TCP peer."""
    return request.get(CLIENT_KEY) or peer_address(request)


def admit(request: web.Request, trusted: Sequence[Network]) -> None:
    """Store the client's address on the request."""
    address = peer_address(request)
    if trusted:  # without trusted proxies the header is never read
        forwarded = request.headers.getall("X-Forwarded-For", [])
        address = client_address(address, forwarded, trusted)
    request[CLIENT_KEY] = address


def request_peer(request: web.Request) -> Peer:
    """Who sent the request, as the dispatcher and the security events see it."""
    transport = request.transport
    remote = transport.get_extra_info("peername") if transport else None
    local = transport.get_extra_info("sockname") if transport else None
    address = client_of(request)
    # Behind a proxy the TCP port is the proxy's, not the client's.
    port = int(remote[1]) if remote and str(remote[0]) == address else 0
    return Peer(
        address=address,
        port=port,
        local_address=str(local[0]) if local else "127.0.0.1",
        local_port=int(local[1]) if local else 0,
    )
