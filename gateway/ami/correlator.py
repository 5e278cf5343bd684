"""The sans-I/O action correlator: gateway ActionIDs, pending actions, lists.

Many HTTP sessions share one AMI socket, so every action goes out with a
gateway ActionID, ``<node_id>.<boot>.<counter>|<client ActionID>`` (design.md,
Contracts).  ``Correlator.feed`` takes each parsed message and says what it
is for:

* ``Completed``: the whole answer to one pending action, the client's own
  ActionID given back in every message (the line removed when the client sent
  none or an empty one, as Asterisk omits an empty ActionID).
* ``Broadcast``: an event for the shared event log.  ``owner`` is set only on
  the async result (``OriginateResponse``) of an Originate prepared with an
  owner: Asterisk shows it to every session allowed to read it, with the
  originator's ActionID, and so does the gateway (a user may narrow that to
  its own results); ``private`` marks the late result of a sync Originate
  whose client gave up, which only its owner may see (a real sync Originate
  emits none).

Decisions where Asterisk leaves a choice:

* A list is recognised by its answer, not by the action name (a regex Hangup
  answers an EventList too): ``Response: Success`` with ``EventList: start``
  collects every event carrying the ActionID up to the one with
  ``EventList: Complete``.  Events with our ActionID after that (the
  OriginateResponse, the UserEvent echo) are ordinary events.
* Command output: the modern form (``Message: Command output follows`` and
  ``Output:`` lines) passes unchanged.  The old ``Response: Follows`` answer
  (Asterisk <= 13) is rewritten into the modern form, so that every renderer
  and client sees one shape: ``Response: Success``, ``[ActionID]``,
  ``Message: Command output follows``, one ``Output: <line>`` per body line.
* A synchronous Originate is sent as Async by the caller and stays pending
  until its OriginateResponse; the answer is what Asterisk gives a sync one
  (``Originate successfully queued``, or ``Response: Error`` /
  ``Message: Originate failed``).  That OriginateResponse is NOT broadcast:
  a real sync Originate emits none (fixture ``originate_sync``).  If the
  client gave up first (``cancel``), the late result goes to its owner alone.
* The owners of async results are remembered across ``fail_all``: Asterisk
  sends OriginateResponse to every AMI session, so the result of an Originate
  sent before a reconnect still arrives on the new connection.
* Answers to actions no longer pending, and items of lists whose action was
  cancelled, are dropped (debug log).  A gateway ActionID of another instance
  or an earlier boot gets the client's ActionID back and is broadcast without
  owner.

* A client ActionID that would make the gateway's longer than
  ``MAX_WIRE_ACTION_ID`` goes upstream as ``<gateway id>|`` alone; the
  correlator keeps the client's and gives it back whole.  (Asterisk writes
  some answers' ActionID into a fixed buffer and cuts a long one; the
  gateway's prefix must not make that happen to an id Asterisk keeps whole.)
  Another instance then sees such an action's OriginateResponse without the
  client's ActionID.

Make one ``Correlator`` per process and keep it across reconnects: the
counter is what keeps gateway ActionIDs unique for the life of the process.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Final, TypeVar

from gateway.ami.codec import validate_action
from gateway.ami.message import OPAQUE, Field, Message, encode, header
from gateway.errors import ConfigError

logger = logging.getLogger(__name__)

MAX_ASYNC_OWNERS: Final = 10_000
"""Originates whose OriginateResponse may still come.  It comes within the
originate timeout (30 s by default); 10,000 in that window is far above what
one instance sends.  The oldest is evicted: its result then goes to everyone,
as Asterisk itself does."""

MAX_WIRE_ACTION_ID: Final = 137
"""The longest ActionID that every answer of Asterisk 22 carries whole, in
bytes: CoreSettings and CoreStatus format ``ActionID: <id>\r\n`` into a
150-byte buffer, so a longer id loses its end and its CRLF, and the next
header runs into the line."""

MAX_LONG_IDS: Final = MAX_ASYNC_OWNERS
"""Client ActionIDs kept for actions sent with the short form, so that events
after the answer (an async OriginateResponse, a UserEvent echo) get theirs
back; the same window as ``MAX_ASYNC_OWNERS``.  Evicted, such an event goes
out without the client's ActionID."""

MAX_FORGOTTEN: Final = 1_000
"""Cancelled actions whose late list items are still recognised and dropped.
Late items follow a timeout by seconds at most; older ones would only leak
a list item into the event log."""

_GATEWAY_ID: Final = re.compile(r"[a-z0-9]{0,8}\.[a-z0-9]+\.[0-9]+")
"""``<node_id>.<boot>.<counter>``: node ids are ``[a-z0-9]{0,8}`` (design.md)."""


def make_action_id(node_id: str, boot: str, counter: int, client_id: str | None) -> str:
    """The ActionID sent to Asterisk; the client's part follows the first ``|``."""
    return f"{node_id}.{boot}.{counter}|{client_id or ''}"


def split_action_id(value: str) -> tuple[str, str | None] | None:
    """``(gateway_id, client ActionID or None)``, or None when not in gateway form."""
    gateway_id, bar, client_id = value.partition("|")
    if not bar or _GATEWAY_ID.fullmatch(gateway_id) is None:
        return None
    return gateway_id, client_id or None


@dataclass(frozen=True, slots=True)
class Completed:
    """Every message of one action's answer, with the client's ActionID back."""

    gateway_id: str
    messages: tuple[Message, ...]


@dataclass(frozen=True, slots=True)
class Broadcast:
    """An event for the shared log; ``owner``: the session whose async
    Originate it answers; ``private``: for that owner alone."""

    message: Message
    owner: str | None = None
    private: bool = False


Outcome = Completed | Broadcast

_V = TypeVar("_V")


class _State(Enum):
    RESPONSE = "waiting for the response"
    LIST = "collecting EventList items"
    ORIGINATE = "waiting for the OriginateResponse of a sync Originate"


@dataclass(frozen=True, slots=True)
class _Pending:
    client_id: str | None
    sync_originate: bool
    state: _State = _State.RESPONSE
    items: list[Message] = field(default_factory=list)


class Correlator:
    """Gives actions gateway ActionIDs and sorts Asterisk's messages back out."""

    def __init__(self, node_id: str, boot: str) -> None:
        if _GATEWAY_ID.fullmatch(f"{node_id}.{boot}.0") is None:
            raise ConfigError(f"node id {node_id!r} / boot {boot!r} must be [a-z0-9]")
        self._node_id = node_id
        self._boot = boot
        self._prefix = f"{node_id}.{boot}."
        self._counter = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._owners: OrderedDict[str, tuple[str, bool]] = OrderedDict()
        """Gateway id -> (owner, sync) of each Originate whose result may come."""
        self._forgotten: OrderedDict[str, None] = OrderedDict()
        self._long_ids: OrderedDict[str, str] = OrderedDict()
        """Gateway id -> client ActionID of each action sent in the short form."""

    @property
    def pending(self) -> int:
        return len(self._pending)

    def prepare(
        self,
        fields: Sequence[Field],
        *,
        owner: str | None = None,
        sync_originate: bool = False,
    ) -> tuple[str, tuple[Field, ...]]:
        """A new gateway id and the fields to send, carrying it as ActionID.

        The client's ActionID line, as the client wrote it, and the rewritten
        fields are validated first (``InvalidCharacter``, ``RequestTooLarge``),
        so nothing is registered for an action that cannot be sent.
        """
        counter = next(self._counter)
        gateway_id = f"{self._prefix}{counter}"
        client_id = _client_id(fields)
        wire_id = make_action_id(self._node_id, self._boot, counter, client_id)
        if client_id is not None:
            validate_action([("ActionID", client_id)])  # the line Asterisk would read
            if len(encode(wire_id)) > MAX_WIRE_ACTION_ID:
                wire_id = make_action_id(self._node_id, self._boot, counter, None)
                _remember(self._long_ids, gateway_id, client_id, MAX_LONG_IDS)
        wire = _with_action_id(fields, wire_id)
        validate_action(wire)  # what goes out: an inserted ActionID is a line too
        self._pending[gateway_id] = _Pending(client_id, sync_originate)
        if owner is not None and _action_name(fields) == "originate":
            _remember(self._owners, gateway_id, (owner, sync_originate), MAX_ASYNC_OWNERS)
        return gateway_id, wire

    def cancel(self, gateway_id: str) -> None:
        """Forget a pending action (its caller timed out)."""
        if self._pending.pop(gateway_id, None) is not None:
            _remember(self._forgotten, gateway_id, None, MAX_FORGOTTEN)

    def fail_all(self, reason: str) -> list[Completed]:
        """Complete every pending action at once with ``Response: Error``."""
        failed = [
            Completed(gateway_id, (_error(pending.client_id, reason),))
            for gateway_id, pending in self._pending.items()
        ]
        self._pending.clear()
        return failed

    def feed(self, msg: Message) -> list[Outcome]:
        """What one message from Asterisk completes or broadcasts."""
        value = msg.get("ActionID")
        split = None if value is None else split_action_id(value)
        if split is None:
            return self._without_ours(msg)
        gateway_id, client_id = split
        if gateway_id in self._long_ids:
            client_id = self._long_ids[gateway_id]
        restored = _restore(msg, client_id)
        if not gateway_id.startswith(self._prefix):
            return self._without_ours(restored)
        if msg.kind == "response":
            if _is_follows(msg):
                restored = _modern_command(msg, client_id)
            return self._on_response(gateway_id, restored)
        if msg.kind == "event":
            return self._on_event(gateway_id, restored)
        logger.debug("AMI: dropped a %s message for %s", msg.kind, gateway_id)
        return []

    def _without_ours(self, msg: Message) -> list[Outcome]:
        if msg.kind == "event":
            return [Broadcast(msg)]
        logger.debug("AMI: dropped a %s message not for this instance: %.80r", msg.kind, msg)
        return []

    def _on_response(self, gateway_id: str, msg: Message) -> list[Outcome]:
        pending = self._pending.get(gateway_id)
        if pending is None or pending.state is not _State.RESPONSE:
            logger.debug("AMI: dropped a response for %s, no longer pending", gateway_id)
            return []
        success = msg.name.lower() == "success"
        if not success:
            self._owners.pop(gateway_id, None)  # no async result will follow
        if success and pending.sync_originate:
            self._pending[gateway_id] = replace(pending, state=_State.ORIGINATE)
            return []
        if success and _field_is(msg, "EventList", "start"):
            pending.items.append(msg)
            self._pending[gateway_id] = replace(pending, state=_State.LIST)
            return []
        del self._pending[gateway_id]
        return [Completed(gateway_id, (msg,))]

    def _on_event(self, gateway_id: str, msg: Message) -> list[Outcome]:
        pending = self._pending.get(gateway_id)
        is_result = msg.name.lower() == "originateresponse"
        if pending is not None and pending.state is _State.LIST:
            pending.items.append(msg)
            if not _field_is(msg, "EventList", "complete"):
                return []
            del self._pending[gateway_id]
            return [Completed(gateway_id, tuple(pending.items))]
        if pending is not None and pending.state is _State.ORIGINATE and is_result:
            del self._pending[gateway_id]
            self._owners.pop(gateway_id, None)
            return [Completed(gateway_id, (_sync_originate_answer(msg, pending.client_id),))]
        if is_result:
            owner, sync = self._owners.pop(gateway_id, (None, False))
            return [Broadcast(msg, owner, private=sync)]
        if gateway_id in self._forgotten:
            logger.debug("AMI: dropped a late list item for cancelled %s", gateway_id)
            return []
        return [Broadcast(msg)]


def _remember(table: OrderedDict[str, _V], key: str, value: _V, cap: int) -> None:
    """Store, evicting the oldest entries beyond ``cap``."""
    table[key] = value
    while len(table) > cap:
        table.popitem(last=False)


def _action_name(fields: Sequence[Field]) -> str:
    return (header(fields, "Action") or "").lower()


def _client_id(fields: Sequence[Field]) -> str | None:
    """The client's ActionID: the first one, unless empty (as Asterisk reads it)."""
    return next((value or None for name, value in fields if name.lower() == "actionid"), None)


def _with_action_id(fields: Sequence[Field], wire_id: str) -> tuple[Field, ...]:
    """The fields with the gateway's ActionID in the client's place: the first
    ActionID line replaced, any later one dropped, or one inserted right after
    the Action line."""
    ids = [i for i, (name, _) in enumerate(fields) if name.lower() == "actionid"]
    if ids:
        first, later = ids[0], frozenset(ids[1:])
        return tuple(
            (name, wire_id) if i == first else (name, value)
            for i, (name, value) in enumerate(fields)
            if i not in later
        )
    at = next((i + 1 for i, (name, _) in enumerate(fields) if name.lower() == "action"), 0)
    return (*fields[:at], ("ActionID", wire_id), *fields[at:])


def _field_is(msg: Message, name: str, value: str) -> bool:
    return (msg.get(name) or "").lower() == value


def _is_follows(msg: Message) -> bool:
    return msg.name.lower() == "follows"


def _restore(msg: Message, client_id: str | None) -> Message:
    """The message with the client's ActionID, or without the line if none.

    The raw bytes are rebuilt line for line, so rawman can still repeat what
    Asterisk wrote (leading spaces in ``Output:`` values included).
    """
    fields: list[Field] = []
    lines = msg.raw.split(b"\r\n")[:-1] if msg.raw else []
    keep_raw = len(lines) == len(msg.fields)
    raw = bytearray()
    for i, (name, value) in enumerate(msg.fields):
        is_id = name.lower() == "actionid"
        if is_id and client_id is None:
            continue
        fields.append((name, client_id) if is_id and client_id is not None else (name, value))
        if keep_raw:
            raw += encode(f"{name}: {client_id}") if is_id else lines[i]
            raw += b"\r\n"
    return Message(tuple(fields), bytes(raw) if keep_raw else b"")


def _modern_command(msg: Message, client_id: str | None) -> Message:
    """An old ``Response: Follows`` in the Asterisk >= 14 shape."""
    head = _reply("Success", client_id, "Command output follows")
    output = [("Output", value) for name, value in msg.fields if name == OPAQUE]
    return Message((*head.fields, *output))


def _sync_originate_answer(event: Message, client_id: str | None) -> Message:
    if _field_is(event, "Response", "success"):
        return _reply("Success", client_id, "Originate successfully queued")
    return _error(client_id, "Originate failed")


def _error(client_id: str | None, message: str) -> Message:
    return _reply("Error", client_id, message)


def _reply(status: str, client_id: str | None, message: str) -> Message:
    fields: list[Field] = [("Response", status)]
    if client_id is not None:
        fields.append(("ActionID", client_id))
    fields.append(("Message", message))
    return Message(tuple(fields))
