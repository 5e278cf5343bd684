"""HTTP Basic credentials (RFC 7617), parsed without any I/O.

Only the ``Basic`` scheme is read here; any other ``Authorization`` scheme is
none of this module's business (``None``), so another handler may own it.
The user-pass is decoded as UTF-8, RFC 7617's ``charset`` for every client
that says one and what 1C and browsers send; an invalid byte survives as a
lone surrogate, exactly like a percent-decoded parameter.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Final

from gateway.ami.message import decode
from gateway.errors import BadCredentials

SCHEME: Final = "basic"
MAX_TOKEN: Final = 4096
"""A base64 user-pass longer than this is no real account: refused unparsed."""


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never print a password into a log or a traceback
        return f"BasicCredentials(username={self.username!r}, password='***')"


def parse_basic(header: str | None) -> BasicCredentials | None:
    """``Basic dXNlcjpwYXNz`` to credentials; None without a Basic header.

    Raises ``BadCredentials`` for a Basic header that does not decode to
    ``user:pass``: a broken client must hear why, not be taken as anonymous.
    """
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != SCHEME:
        return None
    token = token.strip()
    if not token or len(token) > MAX_TOKEN:
        raise BadCredentials
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadCredentials from exc
    username, colon, password = raw.partition(b":")
    if not colon or not username:
        raise BadCredentials
    return BasicCredentials(decode(username), decode(password))
