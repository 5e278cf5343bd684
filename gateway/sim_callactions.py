"""The simulated Asterisk's actions on calls, channels, variables and the queue."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from gateway.ami.message import Field, Message
from gateway.astvalues import ast_true, skip_blanks
from gateway.posixre import PatternError, compile_posix
from gateway.sim_channel import Channel, Fields, unknown
from gateway.sim_data import QUEUE
from gateway.sim_dialplan import OriginateRequest
from gateway.sim_queue import queue_member, queue_params, queue_summary
from gateway.sim_reply import Reply, ack, action_id, error, event_list, item, success

if TYPE_CHECKING:
    from gateway.sim_session import Connection

Handler = Callable[["Connection", Message], Awaitable[Reply]]

DEFAULT_TIMEOUT_MS: Final = 30000
"""A synchronous Originate gives up after this long without an answer (Asterisk's default)."""
_CALLERID: Final = re.compile(r'\s*(?:"([^"]*)"|([^<]*?))\s*<([^>]*)>\s*')
_NUMBER: Final = re.compile(r"[0-9+*#]+")


def parse_callerid(text: str) -> tuple[str, str]:
    """``"Name" <100>``, ``Name <100>``, ``<100>``, ``100`` or ``Name`` to (name, number)."""
    match = _CALLERID.fullmatch(text)
    if match:
        return (match.group(1) if match.group(1) is not None else match.group(2), match.group(3))
    text = text.strip()
    return ("", text) if _NUMBER.fullmatch(text) else (text, "")


def parse_variables(action: Message) -> tuple[Field, ...]:
    """Every ``Variable: A=1,B=2`` header, split at commas, then at the first ``=``."""
    pairs: list[Field] = []
    for header in action.get_all("Variable"):
        for part in header.split(","):
            name, equals, value = part.partition("=")
            if equals and name.strip():
                pairs.append((name.strip(), value))
    return tuple(pairs)


def _duration(seconds: float) -> str:
    whole = max(int(seconds), 0)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


async def _originate(conn: Connection, action: Message) -> Reply:
    channel = action.get("Channel") or ""
    if not channel:
        return error(action, "Channel not specified")
    if "/" not in channel:
        return error(action, "Invalid channel")
    timeout = action.get("Timeout") or str(DEFAULT_TIMEOUT_MS)
    if not timeout.isdigit():
        return error(action, "Invalid timeout")
    sync = not ast_true(skip_blanks(action.get("Async") or ""))
    req = OriginateRequest(
        channel=channel,
        application=action.get("Application") or "",
        data=action.get("Data") or "",
        context=action.get("Context") or "",
        exten=action.get("Exten") or "",
        callerid=parse_callerid(action.get("CallerID") or ""),
        variables=parse_variables(action),
        action_id=action_id(action),
        announce=not sync,
    )
    pbx = conn.hub.pbx
    call = pbx.originate(req)
    if not sync:
        return ack(action, "Originate successfully queued")
    answered = False
    if call is not None:
        # The session writes nothing else while it waits (fixture originate_sync).
        try:
            async with asyncio.timeout(int(timeout) / 1000 * pbx.clock.scale):
                answered = await pbx.wait_answered(call)
        except TimeoutError:
            pbx.end(call, "hangup")
    return (
        ack(action, "Originate successfully queued")
        if answered
        else error(action, "Originate failed")
    )


async def _hangup(conn: Connection, action: Message) -> Reply:
    name = action.get("Channel") or ""
    if not name:
        return error(action, "No channel specified")
    pbx = conn.hub.pbx
    if len(name) > 2 and name.startswith("/") and name.endswith("/"):
        try:
            regex = compile_posix(name[1:-1])
        except PatternError:
            return error(action, "Invalid regex")
        chans = [chan for chan in pbx.channels.values() if regex.search(chan.name)]
        items = [
            Message((("Event", "ChannelHungup"), ("Channel", chan.name), *_trailing_id(action)))
            for chan in chans
        ]
        pbx.hangup(chans)
        return event_list(
            action, "Channels hung up will follow", items, "ChannelsHungupListComplete"
        )
    chan = pbx.find(name)
    if chan is None:
        return error(action, "No such channel")
    pbx.hangup([chan])
    return ack(action, "Channel Hungup")


def _trailing_id(action: Message) -> Fields:
    value = action_id(action)
    return (("ActionID", value),) if value else ()


async def _coreshowchannels(conn: Connection, action: Message) -> Reply:
    now = conn.hub.pbx.clock.now()
    items = [
        item(
            "CoreShowChannel",
            action,
            (
                *chan.snapshot(),
                ("Application", chan.app),
                ("ApplicationData", chan.appdata),
                ("Duration", _duration(now - chan.created)),
                ("BridgeId", ""),
            ),
        )
        for chan in conn.hub.pbx.channels.values()
    ]
    return event_list(action, "Channels will follow", items, "CoreShowChannelsComplete")


def _status_item(chan: Channel, now: float, action: Message, names: list[str]) -> Message:
    variables = [("Variable", f"{n}={chan.variables.get(n, '')}") for n in names]
    return Message(
        (
            ("Event", "Status"),
            ("Privilege", "Call"),
            *chan.snapshot(),
            ("Type", "Local"),
            ("DNID", ""),
            ("EffectiveConnectedLineNum", unknown(chan.conn_num)),
            ("EffectiveConnectedLineName", unknown(chan.conn_name)),
            ("TimeToHangup", "0"),
            ("BridgeID", ""),
            ("Application", chan.app),
            ("Data", chan.appdata),
            ("Nativeformats", "(slin)"),
            ("Readformat", "slin"),
            ("Readtrans", ""),
            ("Writeformat", "slin"),
            ("Writetrans", ""),
            ("Callgroup", "0"),
            ("Pickupgroup", "0"),
            ("Seconds", str(int(now - chan.created))),
            *variables,
            *_trailing_id(action),
        )
    )


async def _status(conn: Connection, action: Message) -> Reply:
    pbx = conn.hub.pbx
    name = action.get("Channel") or ""
    if name:
        found = pbx.find(name)
        if found is None:
            return error(action, "No such channel")
        chans = [found]
    else:
        # The captured Asterisk listed the newest channel first.
        chans = list(pbx.channels.values())[::-1]
    names = [n.strip() for n in (action.get("Variables") or "").split(",") if n.strip()]
    now = pbx.clock.now()
    items = [_status_item(chan, now, action, names) for chan in chans]
    items_count = ("Items", str(len(items)))
    return event_list(action, "Channel status will follow", items, "StatusComplete", items_count)


def _variable_target(conn: Connection, action: Message) -> tuple[str, Channel | None] | Reply:
    """Getvar's and Setvar's ``Variable`` and optional ``Channel``, or the refusal."""
    variable = action.get("Variable") or ""
    if not variable:
        return error(action, "No variable specified")
    name = action.get("Channel") or ""
    chan = conn.hub.pbx.find(name) if name else None
    if name and chan is None:
        return error(action, "No such channel")
    return variable, chan


async def _getvar(conn: Connection, action: Message) -> Reply:
    target = _variable_target(conn, action)
    if isinstance(target, Reply):
        return target
    value = conn.hub.pbx.dialplan.get_variable(target[1], target[0])
    return success(action, ("Variable", target[0]), ("Value", value))


async def _setvar(conn: Connection, action: Message) -> Reply:
    target = _variable_target(conn, action)
    if isinstance(target, Reply):
        return target
    conn.hub.pbx.dialplan.set_variable(target[1], target[0], action.get("Value") or "")
    return ack(action, "Variable Set")


async def _queuestatus(conn: Connection, action: Message) -> Reply:
    stats = conn.hub.pbx.dialplan.queue
    wanted = action.get("Queue") or QUEUE
    items = []
    if wanted == QUEUE:
        ident = action_id(action)
        items = [Message(queue_params(stats, ident)), Message(queue_member(stats, ident))]
    return event_list(action, "Queue status will follow", items, "QueueStatusComplete")


async def _queuesummary(conn: Connection, action: Message) -> Reply:
    stats = conn.hub.pbx.dialplan.queue
    wanted = action.get("Queue") or QUEUE
    items = [Message(queue_summary(stats, action_id(action)))] if wanted == QUEUE else []
    return event_list(action, "Queue summary will follow", items, "QueueSummaryComplete")


CALL_ACTIONS: Final[dict[str, Handler]] = {
    "originate": _originate,
    "hangup": _hangup,
    "coreshowchannels": _coreshowchannels,
    "status": _status,
    "getvar": _getvar,
    "setvar": _setvar,
    "queuestatus": _queuestatus,
    "queuesummary": _queuesummary,
}
