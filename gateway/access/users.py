"""A gateway user's settings, as ``[users.NAME]`` gives them (``gateway.config.users``).

Everything the access rules need to know about one user: secrets, classes,
networks, filters and action lists.  Users are kept by lower-cased name:
AMI user names ignore case (``gateway.access.accounts.find_user``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Final

from gateway.access.clitokens import DEFAULT_PREFIXES, Prefix
from gateway.access.eventfilter import EventFilter
from gateway.access.identity import OriginateResponses

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
"""A ``permit``/``deny`` network (and a trusted proxy's, ``[http] trusted_proxies``)."""

MAX_FILTERS: Final = 64
"""eventfilter entries per user: each one runs on every event."""


@dataclass(frozen=True, slots=True)
class UserConfig:
    name: str
    secret: str | None = None
    secret_hash: str | None = None
    digest_ha1: str | None = None
    read: int = 0
    """Event classes the user receives (bitmask, ``gateway.access.classes``)."""
    write: int = 0
    """Action classes the user may run."""
    permit: tuple[Network, ...] = ()
    deny: tuple[Network, ...] = ()
    eventfilter: tuple[str, ...] = ()
    actions_allow: tuple[str, ...] | None = None
    """When set, only these actions (plus the session's own, like Ping)."""
    actions_deny: tuple[str, ...] = ()
    commands_allow: tuple[Prefix, ...] = DEFAULT_PREFIXES
    """CLI command prefixes (lower-case words) ``Action: Command`` may run."""
    max_sessions: int | None = None
    """Sessions at once: HTTP sessions and AMI connections together."""
    originate_response: OriginateResponses = OriginateResponses.ALL
    """Whose async Originate results the user's sessions get."""
    event_filter: EventFilter = field(init=False, compare=False, repr=False)
    """``eventfilter`` compiled once; building a UserConfig raises if it is bad."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "event_filter", EventFilter.from_specs(self.eventfilter))
