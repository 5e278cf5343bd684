"""Calls and extensions in the event log: what a per-extension view reads.

Asterisk 22 writes every channel of an event with its call's ``Linkedid``
(the Uniqueid of the call's first channel, the same on every leg), prefixed
like the channel (``DestLinkedid`` beside ``DestChannel`` in DialBegin), and
a channel's name says whose phone it is: ``PJSIP/101-0000000a`` and
``Local/101@from-queue-0000001b;1`` are extension 101.  An event that
gives a channel's ``Uniqueid`` without its ``Linkedid`` (``Cdr``'s
``UniqueID``, OriginateResponse) belongs to the call that channel was seen
in.  For each event the ``CallIndex`` notes its ``CallFacts`` (its calls,
the extensions it names),
and for each call the events of it the ring holds and the first event that
named each extension.  ``gateway.core.views.CallView`` (the view of a set
of extensions) decides with them which events concern an operator:

* an event that names one of the extensions in a channel field (a name
  ending in ``Channel``, or ``Interface``, ``StateInterface``, ``Peer``,
  ``Device``);
* every later event of a call once an event of it named one of them: the
  other legs of the operator's calls (the trunk, the queue, the far end);
* at the event that first ties a call to the view, the call's earlier
  events still held, just before it (``catch_up``): a call rings an
  extension only after its trunk leg, the IVR and the queue have run;
* an event that names no channel and no call (FullyBooted, Shutdown, the
  gateway's own GatewayAMIDown): it concerns everyone.

An event of several calls (a transfer) ties each of them to every
extension it names.  No I/O, no clock.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final

from gateway.ami.message import Message
from gateway.errors import AmiLevelError

_DEVICE_FIELDS: Final = frozenset({"interface", "stateinterface", "peer", "device"})
"""Non-channel fields that hold a ``Tech/resource`` (queue members, peers, devices)."""
_CHANNEL_SUFFIX: Final = re.compile(r"-[0-9a-fA-F]+$")
"""``-0000000a`` (PJSIP, SIP, Local: 8 hex digits) or ``-1234`` (IAX2, DAHDI):
Asterisk's per-channel counter after the resource."""
_EXTENSION: Final = re.compile(r"[^\s,;/@&]{1,80}")
"""An extension a view may name: what ``extension_of`` can give back."""
NAME_CACHE: Final = 4096
"""Field names remembered by kind: AMI's vocabulary is a few hundred names; a
client-made UserEvent could invent more, which are then looked at uncached."""

_OTHER, _LINKEDID, _UNIQUEID, _CHANNEL = 0, 1, 2, 3
_ID_LENGTH: Final = len("linkedid")
"""``linkedid`` and ``uniqueid`` alike: what is left of a field's name is its
channel's prefix (``Dest``, ``LocalOne``, or none)."""


def extension_of(channel: str) -> str:
    """The extension (resource) of a channel or device name, "" if it has none.

    ``PJSIP/101-0000000a`` → ``101``; ``Local/101@from-queue-0000001b;1`` →
    ``101``; ``Local/200@test/n`` (a queue member) → ``200``; ``PJSIP/101``
    → ``101``; ``PJSIP/trunk-out-00000001`` → ``trunk-out``.
    """
    slash = channel.find("/")
    if slash < 0:
        return ""
    resource = channel[slash + 1 :]
    semicolon = resource.rfind(";")
    if semicolon >= 0:
        resource = resource[:semicolon]
    at = resource.find("@")
    if at >= 0:
        return resource[:at]
    return _CHANNEL_SUFFIX.sub("", resource)


def parse_extensions(value: str) -> frozenset[str]:
    """``101,102``: a view's extensions (``Invalid extension`` for anything else)."""
    names = frozenset(part.strip() for part in value.split(","))
    if not names or not all(_EXTENSION.fullmatch(name) for name in names):
        raise AmiLevelError("Invalid extension")
    return names


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What an event says about calls: their Linkedids, the extensions it names,
    and the (Uniqueid, Linkedid) of each channel it shows with both."""

    linkedids: tuple[str, ...]
    parties: frozenset[str]
    channels: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class CallTrail:
    """One call as the ring holds it."""

    seqs: list[int] = field(default_factory=list)
    """Its events still held (and some just evicted), oldest first."""
    touched: dict[str, int] = field(default_factory=dict)
    """Each extension it reached: the seq of the first of its events that named it."""
    channels: set[str] = field(default_factory=set)
    """The Uniqueids of its channels."""


class CallIndex:
    """The facts of every event, and the calls of the events the ring holds.

    Fed by ``EventLog.append`` (``facts`` first, then ``record``); a call is
    forgotten once the ring no longer holds any of its events.
    """

    def __init__(self) -> None:
        self._kinds: dict[str, tuple[int, str]] = {}
        self._facts: dict[tuple[object, ...], CallFacts] = {}
        self._trails: OrderedDict[str, CallTrail] = OrderedDict()
        self._channels: dict[str, str] = {}
        """A held call's channels: Uniqueid → Linkedid."""
        self._extensions: dict[str, str] = {}

    def __len__(self) -> int:
        """Calls held."""
        return len(self._trails)

    def trail(self, linkedid: str) -> CallTrail | None:
        return self._trails.get(linkedid)

    def facts(self, message: Message) -> CallFacts | None:
        """The event's calls and extensions; None when it names no channel and no call."""
        kinds = self._kinds
        linked: dict[str, str] = {}
        unique: dict[str, str] = {}
        parties: set[str] = set()
        channel_field = False
        for name, value in message.fields:  # on every append: kept lean (bench/ring_bench.py)
            known = kinds.get(name)
            if known is None:
                known = self._learn(name)
            kind, prefix = known
            if not kind:
                continue
            if kind == _CHANNEL:
                channel_field = True
                extension = self._extension(value)
                if extension:
                    parties.add(extension)
            elif kind == _LINKEDID:
                linked[prefix] = value
            else:
                unique[prefix] = value
        if not (linked or unique or channel_field):
            return None
        linkedids = [value for value in linked.values() if value]
        channels = []
        for prefix, uniqueid in unique.items():
            linkedid = linked.get(prefix) or self._channels.get(uniqueid, "")
            if uniqueid and prefix in linked and linkedid:
                channels.append((uniqueid, linkedid))
            if linkedid:
                linkedids.append(linkedid)
        return self._shared(tuple(dict.fromkeys(linkedids)), frozenset(parties), tuple(channels))

    def _extension(self, channel: str) -> str:
        """``extension_of``, remembered: a channel appears in tens of events."""
        found = self._extensions.get(channel)
        if found is None:
            if len(self._extensions) >= NAME_CACHE:
                self._extensions.clear()
            found = self._extensions[channel] = extension_of(channel)
        return found

    def _shared(
        self,
        linkedids: tuple[str, ...],
        parties: frozenset[str],
        channels: tuple[tuple[str, str], ...],
    ) -> CallFacts:
        """One object for equal facts: a call's events mostly say the same."""
        key = (linkedids, parties, channels)
        found = self._facts.get(key)
        if found is None:
            if len(self._facts) >= NAME_CACHE:
                self._facts.clear()
            found = self._facts[key] = CallFacts(linkedids, parties, channels)
        return found

    def _learn(self, name: str) -> tuple[int, str]:
        """What a field name holds, and its channel's prefix (``Dest``), remembered
        (up to ``NAME_CACHE`` names)."""
        lower = name.lower()
        kind = _OTHER
        if lower.endswith("linkedid"):
            kind = _LINKEDID
        elif lower.endswith("uniqueid"):
            kind = _UNIQUEID
        elif lower.endswith("channel") or lower in _DEVICE_FIELDS:
            kind = _CHANNEL
        known = (kind, lower[:-_ID_LENGTH])
        if len(self._kinds) < NAME_CACHE:
            self._kinds[name] = known
        return known

    def record(self, seq: int, facts: CallFacts | None, first_seq: int) -> None:
        """An appended event: its calls' trails grow; calls the ring no longer
        holds (all their events before ``first_seq``) are forgotten."""
        trails = self._trails
        if facts is not None:
            for linkedid in facts.linkedids:
                trail = trails.get(linkedid)
                if trail is None:
                    trail = trails[linkedid] = CallTrail()
                else:
                    trails.move_to_end(linkedid)  # the most recently seen call last
                    _drop_evicted(trail.seqs, first_seq)
                trail.seqs.append(seq)
                for extension in facts.parties:
                    trail.touched.setdefault(extension, seq)
            for uniqueid, linkedid in facts.channels:
                self._channels[uniqueid] = linkedid
                trails[linkedid].channels.add(uniqueid)
        while trails:
            linkedid, trail = next(iter(trails.items()))
            if trail.seqs[-1] >= first_seq:
                break
            del trails[linkedid]
            for uniqueid in trail.channels:
                if self._channels.get(uniqueid) == linkedid:
                    del self._channels[uniqueid]


def _drop_evicted(seqs: list[int], first_seq: int) -> None:
    """Cut the seqs the ring no longer holds once they are half the list: each is
    dropped once, at O(1) amortised (a call of thousands of events stays cheap)."""
    if seqs[0] < first_seq:
        cut = bisect_left(seqs, first_seq)
        if 2 * cut >= len(seqs):
            del seqs[:cut]
