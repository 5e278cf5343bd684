"""Verified logins, remembered a short while so that a burst pays one hash.

A salted hash (``secret_hash``: scrypt or PBKDF2) costs ~50 ms of CPU by
design, and clients without cookies (1C, click-to-call) send HTTP Basic on
every request (issue 11, item 13).  The login gate (``gateway.core.login``)
keeps the outcome of a right secret here for ``ttl`` seconds:

* the key is an HMAC-SHA256, under a key drawn at random for this process,
  of the user name (as the users are keyed, lower-cased), the client's
  address and the secret: the secret itself is never kept, and a key
  learnt from memory is worthless after a restart.  The address is in it
  because the outcome includes the user's ``permit``/``deny`` for that
  address, so a hit is exactly what the check would say again;
* only successes are kept; a failure is checked, and paid for, every time;
* at most ``size`` entries, the least recently used dropped first; an
  entry lives ``ttl`` seconds from its check, not from its last use, so a
  changed secret is noticed within ``ttl`` even without a reload;
* a reload (SIGHUP), which is how a user's secret, permit/deny or rights
  change, drops every entry (``configure``).

Sans-I/O: every call takes ``now``.  ``ttl`` 0 turns it off.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

T = TypeVar("T")

DEFAULT_TTL: Final = 60.0
"""Long enough for a burst of one-shot requests, short enough that a secret
changed without a reload stops working within a minute."""
DEFAULT_SIZE: Final = 1000
"""Users x addresses that log in within a ttl; ~200 bytes each."""
KEY_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    outcome: T
    expires: float


class VerifiedLogins(Generic[T]):
    """Right secrets, by an HMAC of user, address and secret."""

    def __init__(self, ttl: float = DEFAULT_TTL, size: int = DEFAULT_SIZE) -> None:
        self._key = secrets.token_bytes(KEY_BYTES)
        self._entries: OrderedDict[bytes, _Entry[T]] = OrderedDict()
        self.ttl = ttl
        self.size = size
        self.hits = 0
        """Checks answered from here (``ajam_login_cache_total``)."""
        self.misses = 0
        self.configure(ttl, size)  # checks them

    def __len__(self) -> int:
        return len(self._entries)

    def configure(self, ttl: float, size: int) -> None:
        """New limits (a reload): every entry goes, the users may have changed."""
        if ttl < 0 or size < 1:
            raise ValueError("ttl must not be negative, size must be positive")
        self.ttl, self.size = ttl, size
        self._entries.clear()

    def key(self, username: str, address: str, secret: str) -> bytes:
        text = "\0".join((username.lower(), address, secret))
        return hmac.new(self._key, text.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()

    def get(self, key: bytes, now: float) -> T | None:
        """The outcome of a right secret checked less than ``ttl`` ago, else None."""
        if not self.ttl:
            return None
        entry = self._entries.get(key)
        if entry is None or entry.expires <= now:
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry.outcome

    def put(self, key: bytes, outcome: T, now: float) -> None:
        if not self.ttl:
            return
        self._entries[key] = _Entry(outcome, now + self.ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
