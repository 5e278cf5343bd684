"""Rate and failure limits, sans-I/O: every call takes ``now`` (monotonic s).

* ``TokenBuckets``: tokens per second per key (a session, an address),
  with a burst of one second's worth.
* ``CostRates``: what a client may spend, in those tokens: actions sent to
  Asterisk, ``/history`` lookups and secrets checked (issue 11, item 14).
  Held polls and everything else that costs Asterisk nothing are free: a
  long poll paces itself, and counting it refused exactly the offices of
  dashboards behind one NAT the gateway is for.
* ``FailureWindow``: failed logins per key over a sliding window.
* ``LoginGuard``: the two failure windows a login goes through, per address
  and per (username, address).  Keys always hold the address, so guessing a
  password from one address never locks the user out of another.

Memory is bounded: each structure keeps at most ``max_keys`` keys and drops
the least recently used one first.  A dropped bucket comes back full and a
dropped window empty, which only ever errs towards letting a client in, and
only for keys idle long enough to be the oldest of many thousands.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from gateway.errors import RateLimited

K = TypeVar("K")

DEFAULT_MAX_KEYS: Final = 100_000
"""Enough for every address of a busy site; ~100 bytes each."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class TokenBuckets(Generic[K]):
    """``rate`` requests per second per key; a burst of ``burst`` (default ``rate``)."""

    def __init__(
        self, rate: float, burst: float | None = None, max_keys: int = DEFAULT_MAX_KEYS
    ) -> None:
        if rate <= 0 or max_keys < 1:
            raise ValueError("rate and max_keys must be positive")
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self.max_keys = max_keys
        self._buckets: OrderedDict[K, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: K, now: float, cost: float = 1.0) -> float:
        """Spend ``cost`` tokens (at most a burst's worth, or a big cost could
        never pass): 0.0 when allowed, else seconds until they are due."""
        cost = min(cost, self.burst)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
            self._buckets[key] = bucket
            self._evict()
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.at)
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
            bucket.at = now
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0.0
        return (cost - bucket.tokens) / self.rate

    def due(self, key: K, now: float, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are there (0.0: now), spending none."""
        cost = min(cost, self.burst)
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        tokens = min(self.burst, bucket.tokens + max(0.0, now - bucket.at) * self.rate)
        return 0.0 if tokens >= cost else (cost - tokens) / self.rate

    def spend(self, key: K, now: float, cost: float = 1.0) -> None:
        """``take``, raising ``RateLimited`` (429, with its ``Retry-After``) over the rate."""
        wait = self.take(key, now, cost)
        if wait:
            raise RateLimited(retry_after(wait))

    def configure(self, rate: float, burst: float | None = None) -> None:
        """A new rate (SIGHUP): keys keep their tokens, capped at the new burst."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)

    def forget(self, key: K) -> None:
        self._buckets.pop(key, None)

    def _evict(self) -> None:
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)


ACTION_UNIT: Final = 1024
"""An action sent to Asterisk costs one token per started KiB of its text:
AMI's own line limit, and one ordinary action; a 100 KiB UserEvent costs
Asterisk (and every session that reads it) a hundred times more."""


def action_cost(size: int) -> int:
    """Tokens an action of ``size`` characters costs (``ACTION_UNIT``)."""
    return 1 + max(0, size - 1) // ACTION_UNIT


class CostRates:
    """Tokens a client spends on what costs: ``rate_per_session`` per session
    and ``rate_per_address`` per client address (all its sessions and
    one-shot requests together).  Over either: ``RateLimited`` (429), and
    nothing is done."""

    def __init__(self, per_session: TokenBuckets[str], per_address: TokenBuckets[str]) -> None:
        self.per_session = per_session
        self.per_address = per_address

    def action(self, address: str, session_key: str | None, now: float, size: int = 0) -> None:
        """An action for Asterisk (``size``: its text's length) or a ``/history``
        lookup; ``session_key`` None for a one-shot request, whose session
        lives for one request and has no bucket of its own."""
        cost = action_cost(size)
        self.per_address.spend(address, now, cost)
        if session_key is not None:
            self.per_session.spend(session_key, now, cost)

    def due(self, address: str, session_key: str, now: float, size: int = 0) -> float:
        """``action`` for a client that waits its turn (an AMI connection):
        0.0 once both buckets paid, else the seconds until both can, nothing
        spent meanwhile."""
        cost = action_cost(size)
        wait = max(
            self.per_address.due(address, now, cost),
            self.per_session.due(session_key, now, cost),
        )
        if not wait:
            self.per_address.take(address, now, cost)
            self.per_session.take(session_key, now, cost)
        return wait

    def check(self, address: str, now: float) -> None:
        """A secret checked against its (salted) hash: a login."""
        self.per_address.spend(address, now)


class FailureWindow(Generic[K]):
    """At most ``limit`` failures per key within ``window`` seconds."""

    def __init__(self, limit: int, window: float, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        if limit < 1 or window <= 0 or max_keys < 1:
            raise ValueError("limit, window and max_keys must be positive")
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._times: OrderedDict[K, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._times)

    def count(self, key: K, now: float) -> int:
        """Failures of ``key`` within the window that ends at ``now``."""
        times = self._times.get(key)
        if times is None:
            return 0
        return sum(1 for t in times if t > now - self.window)

    def blocked_for(self, key: K, now: float) -> float:
        """0.0 when another attempt is allowed, else seconds until it is."""
        times = self._times.get(key)
        if times is None or len(times) < self.limit:
            return 0.0
        # Only the last ``limit`` failures are kept: the oldest decides.
        return max(0.0, times[0] + self.window - now)

    def record(self, key: K, now: float) -> None:
        times = self._times.get(key)
        if times is None:
            times = deque(maxlen=self.limit)
            self._times[key] = times
            while len(self._times) > self.max_keys:
                self._times.popitem(last=False)
        else:
            self._times.move_to_end(key)
        times.append(now)

    def clear(self, key: K) -> None:
        self._times.pop(key, None)

    def configure(self, limit: int, window: float) -> None:
        """New limits (SIGHUP): the failures already counted are kept."""
        if limit < 1 or window <= 0:
            raise ValueError("limit and window must be positive")
        self.limit, self.window = limit, window
        for key, times in self._times.items():
            self._times[key] = deque(times, maxlen=limit)


class LoginGuard:
    """Failed logins limited per address and per (username, address).

    Once a key has failed at least once in the window, its attempts still
    being checked count as failures until they are decided: a flood of
    guesses sent at once cannot all slip past the limit and queue slow hash
    checks.  A key with no failure lets any number through at once, so a
    farm of clients behind one address can all log in together.
    """

    def __init__(
        self,
        per_address: int,
        per_user_address: int,
        window: float,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        self.by_address: FailureWindow[str] = FailureWindow(per_address, window, max_keys)
        self.by_user: FailureWindow[tuple[str, str]] = FailureWindow(
            per_user_address, window, max_keys
        )
        self._checking: Counter[str | tuple[str, str]] = Counter()

    def configure(self, per_address: int, per_user_address: int, window: float) -> None:
        self.by_address.configure(per_address, window)
        self.by_user.configure(per_user_address, window)

    def blocked(self, username: str, address: str, now: float) -> bool:
        """True when this attempt must fail without looking at the secret."""
        pair = (username.lower(), address)
        return self._over(self.by_address, address, now) or self._over(self.by_user, pair, now)

    def _over(self, window: FailureWindow[Any], key: str | tuple[str, str], now: float) -> bool:
        failures = window.count(key, now)
        pending = self._checking[key] if failures else 0
        return failures + pending >= window.limit

    def checking(self, username: str, address: str, busy: bool) -> None:
        """Mark an attempt as being checked (``busy``) or decided."""
        for key in (address, (username.lower(), address)):
            self._checking[key] += 1 if busy else -1
            if self._checking[key] <= 0:
                del self._checking[key]

    def failed(self, username: str, address: str, now: float) -> None:
        self.by_address.record(address, now)
        self.by_user.record((username.lower(), address), now)

    def succeeded(self, username: str, address: str) -> None:
        """A right secret clears that user's count from that address only: the
        address's own count stays, or one good account would launder guesses."""
        self.by_user.clear((username.lower(), address))


def retry_after(seconds: float) -> int:
    """A ``Retry-After`` value: whole seconds, at least 1."""
    return max(1, math.ceil(seconds))
