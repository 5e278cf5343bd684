"""The AMI door's own settings (``[ami_server]``), read by ``gateway.config``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gateway.access.users import Network

BANNER_PREFIX: Final = "Asterisk Call Manager/"
"""Clients check the banner: Asterisk-Java needs a line starting so (or a
proxy's), PAMI needs ``Asterisk`` in it, panoramisk reads the version after
the slash."""
DEFAULT_BANNER: Final = "Asterisk Call Manager/11.0.0"
"""Asterisk 22's own (AMI_VERSION 11.0.0), until the upstream's is known."""
DEFAULT_PORT: Final = 5039
"""The issue's port.  It is also Asterisk's own AMI-over-TLS default
(``tlsbindaddr``): on the PBX's host pick another."""


@dataclass(frozen=True, slots=True)
class AmiServerConfig:
    """Where the AMI door listens and how it treats its clients."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    tls: bool = False
    """AMI inside TLS, as Asterisk's ``tlsenable``; needs certfile and keyfile."""
    certfile: str | None = None
    keyfile: str | None = None
    banner: str | None = None
    """The line sent on connect; None: the upstream Asterisk's own banner line."""
    write_timeout: float = 30.0
    """Seconds a client may read nothing while output waits for it; then it
    is disconnected (Asterisk's ``writetimeout``, whose default is 100 ms)."""
    buffer_bytes: int = 1024 * 1024
    """Output waiting for one client beyond which events are held back in the
    ring (a client that falls behind the ring gets ``GatewayEventsLost``)."""
    auth_timeout: float = 30.0
    """Seconds from connect to a login; then the connection is closed, silently
    (Asterisk's ``authtimeout``)."""
    max_unauthenticated: int = 50
    """Connections not yet logged in; one more is closed before the banner
    (Asterisk's ``authlimit``)."""
    trusted_proxies: tuple[Network, ...] = ()
    """TCP proxies (nginx with ``proxy_protocol on``) whose connections start
    with a PROXY protocol v1 line naming the real client (``proxyline``)."""
