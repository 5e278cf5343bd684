"""Which write classes each AMI action needs (manager.conf's ``write=``).

Asterisk registers every action with a set of classes.  A user may run an
action when the user's write classes share any class with that set, or when
the set is empty.  The gateway learns the sets from ``Action: ListCommands``
(one ``Name: Synopsis  (Priv: classes)`` line per action) when it logs in,
and falls back to the built-in table below until then.

The actions the gateway answers itself (Login, Logoff, Challenge, Ping,
WaitEvent, Events, ListCommands, Filter) keep the classes Asterisk gives them,
whatever Asterisk reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from gateway.access.astvalues import ascii_lower
from gateway.access.classes import parse_privilege
from gateway.ami.message import OPAQUE, Message
from gateway.errors import ProtocolError

_BUILTIN: Final[Mapping[str, str]] = MappingProxyType(
    {
        "AbsoluteTimeout": "system,call",
        "AgentLogoff": "agent",
        "Agents": "agent",
        "AGI": "agi",
        "AOCMessage": "aoc",
        "Atxfer": "call",
        "BlindTransfer": "call",
        "Bridge": "call",
        "BridgeDestroy": "",
        "BridgeInfo": "",
        "BridgeKick": "",
        "BridgeList": "",
        "BridgeTechnologyList": "",
        "BridgeTechnologySuspend": "",
        "BridgeTechnologyUnsuspend": "",
        "CancelAtxfer": "call",
        "Challenge": "",
        "Command": "command",
        "ConfbridgeKick": "call",
        "ConfbridgeList": "reporting",
        "ConfbridgeListRooms": "reporting",
        "ConfbridgeLock": "call",
        "ConfbridgeMute": "call",
        "ConfbridgeSetSingleVideoSrc": "call",
        "ConfbridgeStartRecord": "system",
        "ConfbridgeStopRecord": "system",
        "ConfbridgeUnlock": "call",
        "ConfbridgeUnmute": "call",
        "CoreSettings": "system,reporting",
        "CoreShowChannelMap": "system,reporting",
        "CoreShowChannels": "system,reporting",
        "CoreStatus": "system,reporting",
        "CreateConfig": "config",
        "DBDel": "system",
        "DBDelTree": "system",
        "DBGet": "system,reporting",
        "DBGetTree": "system,reporting",
        "DBPut": "system",
        "DeviceStateList": "call,reporting",
        "DialplanExtensionAdd": "system",
        "DialplanExtensionRemove": "system",
        "Events": "",
        "ExtensionState": "call,reporting",
        "ExtensionStateList": "call,reporting",
        "Filter": "system",
        "GetConfig": "system,config",
        "GetConfigJSON": "system,config",
        "Getvar": "call,reporting",
        "Hangup": "system,call",
        "ListCategories": "config",
        "ListCommands": "",
        "LocalOptimizeAway": "system,call",
        "LoggerRotate": "system,reporting",
        "Login": "",
        "Logoff": "",
        "MailboxCount": "call,reporting",
        "MailboxStatus": "call,reporting",
        "MessageSend": "message",
        "MixMonitor": "system",
        "MixMonitorMute": "system,call",
        "ModuleCheck": "system",
        "ModuleLoad": "system",
        "MuteAudio": "system",
        "Originate": "originate",
        "Park": "call",
        "ParkedCalls": "call",
        "Parkinglots": "call",
        "Ping": "",
        "PlayDTMF": "call",
        "PresenceState": "call,reporting",
        "PresenceStateList": "call,reporting",
        "QueueAdd": "agent",
        "QueueChangePriorityCaller": "",
        "QueueLog": "agent",
        "QueueMemberRingInUse": "agent",
        "QueuePause": "agent",
        "QueuePenalty": "agent",
        "QueueReload": "",
        "QueueRemove": "agent",
        "QueueReset": "",
        "QueueRule": "",
        "QueueStatus": "",
        "QueueSummary": "",
        "QueueWithdrawCaller": "",
        "Redirect": "call",
        "Reload": "system,config",
        "SendFlash": "call",
        "SendText": "call",
        "Setvar": "call",
        "ShowDialPlan": "config,reporting",
        "SorceryMemoryCacheExpire": "system",
        "SorceryMemoryCacheExpireObject": "system",
        "SorceryMemoryCachePopulate": "system",
        "SorceryMemoryCacheStale": "system",
        "SorceryMemoryCacheStaleObject": "system",
        "Status": "system,call,reporting",
        "StopMixMonitor": "system,call",
        "UpdateConfig": "config",
        "UserEvent": "user",
        "WaitEvent": "",
    }
)
"""Classes per action as Asterisk 22.10.1 listed them (``ami/listcommands``)."""

SESSION_ACTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Login": "",
        "Logoff": "",
        "Challenge": "",
        "Ping": "",
        "WaitEvent": "",
        "Events": "",
        "ListCommands": "",
        "Filter": "system",
    }
)
"""Actions the gateway handles for the session itself, with Asterisk's classes."""

_PRIV_RE: Final = re.compile(r"\(Priv: ([^()]*)\)\s*$")
_SKIPPED: Final = frozenset({"response", "actionid", "message", OPAQUE})
"""Lines of a ListCommands answer that are not actions."""


def _mask(classes: str) -> int:
    # "<none>" and the trailing "all" marker add no bit, as in Privilege headers.
    return parse_privilege(classes)


@dataclass(frozen=True, slots=True)
class ActionPermissions:
    """Action name (case-insensitive) to the class bitmask it needs."""

    table: Mapping[str, tuple[str, int]]
    """Lower-cased name to (name as Asterisk spells it, class mask)."""
    authoritative: bool = False
    """True when learned from ListCommands: an action not listed does not exist."""

    @classmethod
    def of(
        cls, pairs: Iterable[tuple[str, int]], *, authoritative: bool = False
    ) -> ActionPermissions:
        table = {ascii_lower(name): (name, mask) for name, mask in pairs}
        for name, classes in SESSION_ACTIONS.items():
            table[ascii_lower(name)] = (name, _mask(classes))
        return cls(MappingProxyType(table), authoritative)

    @classmethod
    def builtin(cls) -> ActionPermissions:
        return cls.of((name, _mask(classes)) for name, classes in _BUILTIN.items())

    @classmethod
    def from_listcommands(cls, message: Message) -> ActionPermissions:
        """Parse Asterisk's answer to ``Action: ListCommands``.

        A line without a ``(Priv: ...)`` tail is skipped: the action stays
        unknown, which only users with ``write=all`` may run.
        """
        if message.kind != "response" or message.name.lower() != "success":
            raise ProtocolError(f"ListCommands failed: {message.get('Message', message.name)}")
        pairs = []
        for name, value in message.fields:
            if name.lower() in _SKIPPED:
                continue
            match = _PRIV_RE.search(value)
            if match is not None:
                pairs.append((name.strip(), _mask(match.group(1))))
        return cls.of(pairs, authoritative=True)

    def classes(self, action: str) -> int | None:
        """The action's class mask, or None when the action is unknown.
        Names compare as ``action_find`` compares them: whole, ASCII case
        folded (``Ping `` is no Ping)."""
        entry = self.table.get(ascii_lower(action))
        return None if entry is None else entry[1]

    def canonical(self, action: str) -> str | None:
        """The action's name as Asterisk spells it, or None when unknown."""
        entry = self.table.get(ascii_lower(action))
        return None if entry is None else entry[0]

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(name for name, _ in self.table.values()))

    def __contains__(self, action: object) -> bool:
        return isinstance(action, str) and ascii_lower(action) in self.table

    def __len__(self) -> int:
        return len(self.table)
