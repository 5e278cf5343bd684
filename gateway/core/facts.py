"""What the gateway knows of Asterisk itself, learnt from its own events.

``FullyBooted`` (sent to every AMI login) carries Asterisk's uptime and the
time since its last reload; the gateway counts on from there, so that a
session logging in later gets the FullyBooted Asterisk would have sent it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.ami.message import Message


@dataclass(slots=True)
class AmiFacts:
    """What the gateway learnt from Asterisk's own FullyBooted."""

    uptime: int = 0
    last_reload: int = 0
    at: float = 0.0
    """``now`` (monotonic seconds) when they were learnt; 0.0: never."""

    def observe(self, message: Message, now: float) -> None:
        """Learn from an AMI event; only FullyBooted teaches anything."""
        if message.name == "FullyBooted":
            self.uptime = int(message.get("Uptime") or 0)
            self.last_reload = int(message.get("LastReload") or 0)
            self.at = now

    def counted_on(self, now: float) -> tuple[int, int]:
        """(uptime, seconds since the last reload) as they are at ``now``."""
        elapsed = int(now - self.at) if self.at else 0
        return self.uptime + elapsed, self.last_reload + elapsed
