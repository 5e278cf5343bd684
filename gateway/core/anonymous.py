"""Ids for sessions that have not logged in, kept by the client instead of us.

Asterisk stores a session for every cookie-less request and sends its id in
``Set-Cookie``; a client that sends it back gets the same id again until the
session expires (capture ``ajam/http_keepalive``).  Storing them let
anonymous requests fill the session table (issue 11, item 7), so the
gateway stores none: the id itself says that this instance minted it for an
anonymous session, and when.  A client naming such an id within
``unauth_timeout`` of its minting gets the same id back, as from Asterisk;
later, or after a restart (the key is new), it gets a new one.

An id is ``<node_id><32 hex digits>``, the shape nginx routes on:

* 8 hex: the second it was minted (``now``, monotonic);
* 12 hex: random;
* 12 hex: HMAC-SHA256 of the node id and the 20 digits before, under a
  per-process random key, cut to 48 bits.

The MAC only has to tell these ids from the 128 random bits of a logged-in
session's id (a logged-off session's id must not come back as an anonymous
one, as in Asterisk): an anonymous id grants nothing, and a login always
gives a new random id (no fixation), so a forged one gains nothing either.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Final

KEY_BYTES: Final = 32
TIME_DIGITS: Final = 8
RANDOM_DIGITS: Final = 12
MAC_DIGITS: Final = 12
_HEX: Final = re.compile(r"[0-9a-f]{32}")


class AnonymousIds:
    """Mints and recognises the ids of anonymous sessions of one instance."""

    def __init__(self, node_id: str, life: float, key: bytes | None = None) -> None:
        self._node_id = node_id
        self.life = life
        """Seconds an id is given back (``unauth_timeout``)."""
        self._key = key if key is not None else secrets.token_bytes(KEY_BYTES)

    def mint(self, now: float) -> str:
        head = f"{int(now) & 0xFFFFFFFF:08x}{secrets.token_hex(RANDOM_DIGITS // 2)}"
        return self._node_id + head + self._mac(head)

    def valid(self, session_id: str, now: float) -> bool:
        """Whether this instance minted ``session_id`` less than ``life`` ago."""
        node = self._node_id
        digits = session_id[len(node) :]
        if not session_id.startswith(node) or not _HEX.fullmatch(digits):
            return False
        head, mac = digits[: TIME_DIGITS + RANDOM_DIGITS], digits[TIME_DIGITS + RANDOM_DIGITS :]
        if not hmac.compare_digest(mac, self._mac(head)):
            return False
        age = (int(now) - int(head[:TIME_DIGITS], 16)) & 0xFFFFFFFF
        return age <= self.life

    def _mac(self, head: str) -> str:
        digest = hmac.new(self._key, f"{self._node_id}:{head}".encode(), hashlib.sha256)
        return digest.hexdigest()[:MAC_DIGITS]
