"""HTTP Digest nonces and the sessions they belong to: no I/O, explicit ``now``.

A nonce is issued with a 401 and waits, *pending*, for its first good answer.
That answer opens a session and *binds* the nonce to it; from then on each
request on the nonce must carry a larger nonce count (``nc``), and the nonce
lasts ``lifetime`` seconds from its issue.  A replayed or non-increasing
count, or an old nonce, is answered with a new one and ``stale=true``; the
session keeps going under the new nonce, and the one before it is
remembered so that a late request on it hears the current one, as in
Asterisk.

Nonces are ``<node_id><32 random hex digits>``, the session id's form, so
that nginx routes them with the same rule (design.md, Contracts).  Only
nonces issued here are accepted: Asterisk takes any hex number as a nonce.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from gateway.core.sessions import Session, new_id

NONCE_LIFETIME: Final = 60
"""Seconds a nonce is good for: Asterisk renews a digest session's nonce after 60 s."""
MAX_PENDING_NONCES: Final = 10_000
"""Issued and never answered: each 401 adds one, so the oldest go first (~1 MB)."""
SWEEP_MIN: Final = 1024
"""Bound nonces are checked for dead sessions once their count doubles past this."""


@dataclass(slots=True, eq=False)
class Binding:
    """A digest session: its current nonce and the highest count used on it."""

    session: Session
    username: str
    nonce: str
    issued: float
    nc: int
    old_nonce: str | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """A nonce issued with a 401, not yet answered."""

    nonce: str


@dataclass(frozen=True, slots=True)
class Bound:
    binding: Binding
    current: bool
    """False: the nonce before the current one."""


class NonceStore:
    def __init__(
        self,
        *,
        node_id: str = "",
        lifetime: float = NONCE_LIFETIME,
        max_pending: int = MAX_PENDING_NONCES,
        alive: Callable[[Session], bool] = lambda session: True,
    ) -> None:
        self.node_id = node_id
        self.lifetime = lifetime
        self.max_pending = max_pending
        self._alive = alive
        self._pending: OrderedDict[str, float] = OrderedDict()
        self._bound: dict[str, Binding] = {}
        self._sweep_at = SWEEP_MIN

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def bound_count(self) -> int:
        return len(self._bound)

    def issue(self, now: float) -> str:
        """A fresh nonce for a 401; the oldest pending ones make room."""
        self._expire(now)
        while len(self._pending) >= self.max_pending:
            self._pending.popitem(last=False)
        nonce = new_id(self.node_id)
        self._pending[nonce] = now
        return nonce

    def _expire(self, now: float) -> None:
        pending = self._pending
        while pending and now - next(iter(pending.values())) > self.lifetime:
            pending.popitem(last=False)

    def find(self, nonce: str, now: float) -> Pending | Bound | None:
        """What a nonce is now; None: unknown, expired before use, or its session is gone."""
        issued = self._pending.get(nonce)
        if issued is not None:
            if now - issued <= self.lifetime:
                return Pending(nonce)
            del self._pending[nonce]
            return None
        binding = self._bound.get(nonce)
        if binding is None:
            return None
        if not self._alive(binding.session):
            self.drop(binding)
            return None
        return Bound(binding, binding.nonce == nonce)

    def bind(self, nonce: str, session: Session, username: str, nc: int, now: float) -> Binding:
        """A pending nonce's first good answer opened ``session``.

        Its count is recorded at once (Asterisk records it only from the
        second request, so it accepts one replay of the first).
        """
        issued = self._pending.pop(nonce)
        binding = Binding(session, username, nonce, issued, nc)
        self._bound[nonce] = binding
        if len(self._bound) > self._sweep_at:
            self.sweep()
        return binding

    def use(self, binding: Binding, nc: int, now: float) -> bool:
        """Whether the current nonce takes this count now; records it if so."""
        if nc <= binding.nc or now - binding.issued > self.lifetime:
            return False
        binding.nc = nc
        return True

    def renew(self, binding: Binding, now: float) -> str:
        """A new nonce for the same session; the old one is remembered, the one before forgotten."""
        if binding.old_nonce is not None:
            self._bound.pop(binding.old_nonce, None)
        binding.old_nonce = binding.nonce
        binding.nonce = new_id(self.node_id)
        binding.issued = now
        binding.nc = 0
        self._bound[binding.nonce] = binding
        return binding.nonce

    def drop(self, binding: Binding) -> None:
        self._bound.pop(binding.nonce, None)
        if binding.old_nonce is not None:
            self._bound.pop(binding.old_nonce, None)

    def sweep(self) -> int:
        """Forget the nonces of sessions that ended (logoff, expiry); returns how many."""
        dead = {id(b): b for b in self._bound.values() if not self._alive(b.session)}
        for binding in dead.values():
            self.drop(binding)
        self._sweep_at = max(SWEEP_MIN, 2 * len(self._bound))
        return len(dead)
