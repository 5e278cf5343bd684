"""A listening socket that cannot be opened, as the one line an admin needs:
the address and port, why, who usually holds that port, and what to change.

``listening`` turns the ``OSError`` of opening one into ``StartupError`` with
this text instead of a traceback; the command line prints it and exits 1.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final

from gateway.errors import StartupError

USUAL_HOLDERS: Final[Mapping[int, str]] = {
    8088: "Asterisk's own HTTP server (http.conf bindport, 8088 by default)",
    8089: "Asterisk's own HTTPS server (http.conf tlsbindaddr, port 8089 by default)",
    5038: "Asterisk's AMI (manager.conf port, 5038 by default)",
    5039: "Asterisk's AMI over TLS (manager.conf tlsbindaddr, port 5039 by default)",
}
"""Ports an Asterisk host already uses, by default: the gateway's own
defaults (8088, and 5039 for its AMI door) are the same numbers on purpose,
so that clients need no change when it replaces Asterisk's servers."""

OTHER_HOLDERS: Final = "another ajam-gateway instance or another program"

PRIVILEGED_BELOW: Final = 1024
"""Binding lower ports needs root or CAP_NET_BIND_SERVICE, which the shipped
unit does not grant."""


def listen_error(
    what: str, host: str, port: int, error: OSError, *, host_setting: str, port_setting: str
) -> str:
    """Why ``what`` (``HTTP``, ``AMI``) cannot listen on ``host:port``.

    The settings name what to change, e.g. ``[http] port (or --port)``.
    """
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    head = f"cannot listen for {what} on {where}: "
    if isinstance(error, socket.gaierror):
        return head + f"cannot resolve {host!r} ({error.strerror}); fix {host_setting}"
    if error.errno == errno.EADDRINUSE:
        holder = USUAL_HOLDERS.get(port)
        usual = f"{holder} or another ajam-gateway instance" if holder else OTHER_HOLDERS
        return (
            head + f"the port is already in use, usually by {usual}; "
            f"see who holds it: ss -ltnp 'sport = :{port}'; "
            f"choose another {port_setting}, or stop that program"
        )
    if error.errno in (errno.EACCES, errno.EPERM):
        if 0 < port < PRIVILEGED_BELOW:
            return (
                head + f"permission denied: ports below {PRIVILEGED_BELOW} need root or "
                "CAP_NET_BIND_SERVICE (the shipped systemd unit grants none); "
                f"use a port from {PRIVILEGED_BELOW} up in {port_setting}, with nginx in front"
            )
        return head + "permission denied (a security policy: SELinux, AppArmor, the unit's sandbox)"
    if error.errno == errno.EADDRNOTAVAIL:
        return (
            head + f"{host} is not an address of this machine (ip -brief address lists them); "
            f"fix {host_setting}, or 0.0.0.0 for every address"
        )
    return head + (error.strerror or str(error))


@contextmanager
def listening(
    what: str, host: str, port: int, *, host_setting: str, port_setting: str
) -> Iterator[None]:
    """Around opening a listening socket: its ``OSError`` becomes
    ``StartupError`` with ``listen_error``'s line."""
    try:
        yield
    except OSError as error:
        why = listen_error(
            what, host, port, error, host_setting=host_setting, port_setting=port_setting
        )
        raise StartupError(why) from None
