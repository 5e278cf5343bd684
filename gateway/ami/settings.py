"""The AMI link's own settings: the gateway's account on Asterisk and the link's tuning.

``gateway.config`` reads them from ``[ami]``; the client needs nothing else
from the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AmiConfig:
    """The gateway's own AMI account and link tuning."""

    host: str = "127.0.0.1"
    port: int = 5038
    username: str = ""
    secret: str = ""
    tls: bool = False
    tls_verify: bool = True
    """Check Asterisk's certificate and host name; off only for a lab."""
    tls_ca: str | None = None
    """PEM file of the CA (or the self-signed cert) to trust; None: the system's."""
    connect_timeout: float = 5.0
    action_timeout: float = 10.0
    ping_interval: float = 20.0
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
