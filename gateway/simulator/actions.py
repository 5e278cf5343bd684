"""The session actions of the simulated Asterisk, and ``perform``, which runs any action.

Checks run in manager.c's order: a missing action, then an action before
login (only Login, Logoff and Challenge are allowed), then the write
classes (any shared class, or none needed), then the handler.  Action and
header names are matched without regard to case.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Final

from gateway.access.astvalues import ascii_lower
from gateway.access.classes import ALL, CLASS_BITS, parse_classes
from gateway.access.clitokens import cli_args
from gateway.access.posixre import PatternError, compile_posix
from gateway.ami.challenge import md5_key
from gateway.ami.message import OPAQUE, Message, decode
from gateway.simulator.answers import Answer, ack, error, response, success
from gateway.simulator.callactions import CALL_ACTIONS
from gateway.simulator.captured import (
    ACTIONS,
    ACTIONS_BY_NAME,
    FALSE_WORDS,
    TRUE_WORDS,
    VERSION_LINE,
    show_commands_lines,
)
from gateway.simulator.channels import Fields, event
from gateway.simulator.manager import Mansession

Handler = Callable[[Mansession, Message], Awaitable[Answer]]

NO_LOGIN_NEEDED: Final = frozenset({"login", "logoff", "challenge"})
SYSTEM: Final = CLASS_BITS["system"]
PASSTHROUGH_SKIP: Final = ("action:", "userevent:")
"""UserEvent copies every line of the action into the event but these."""


async def perform(conn: Mansession, action: Message) -> Answer:
    """One action, checked in manager.c's order, to its answer."""
    name = next((value for key, value in action if key.lower() == "action" and value), "")
    if not name:
        return error(action, "Missing action in request")
    key = name.lower()
    if not conn.authenticated and key not in NO_LOGIN_NEEDED:
        return error(action, "Permission denied")
    info = ACTIONS_BY_NAME.get(key)
    if info is None:
        return _unknown(conn, action, name)
    required = parse_classes(info.classes)
    if required and not conn.writeperm & required:
        return error(action, "Permission denied")
    handler = HANDLERS.get(key)
    if handler is None:
        return error(action, f"The simulator does not implement {info.name}")
    return await handler(conn, action)


def _unknown(conn: Mansession, action: Message, name: str) -> Answer:
    text = f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands."
    conn.hub.broadcast(
        conn.security_event(
            "RequestBadFormat",
            "Error",
            ("SessionID", conn.session_id),
            ("LocalAddress", conn.local_address),
            ("RemoteAddress", conn.remote_address),
            ("RequestType", f"Action: {name}"),
            ("SessionTV", conn.session_tv),
            ("AccountID", conn.username),
        )
    )
    return error(action, text)


# -- login ------------------------------------------------------------------


def _secret_ok(conn: Mansession, action: Message, secret: str) -> bool:
    if (action.get("AuthType") or "").lower() == "md5":
        key = (action.get("Key") or "").lower()
        digest = md5_key(conn.challenge, secret)
        return bool(conn.challenge and key) and key == digest
    return action.get("Secret") == secret


async def _login(conn: Mansession, action: Message) -> Answer:
    if conn.authenticated:
        return ack(action, "Already authenticated")
    username = action.get("Username") or ""
    found = next(((k, u) for k, u in conn.hub.users.items() if k.lower() == username.lower()), None)
    if found is None or not _secret_ok(conn, action, found[1].secret):
        await asyncio.sleep(conn.hub.auth_fail_delay)
        return Answer(error(action, "Authentication failed").messages, close=True)
    conn.log_in(*found)
    events = action.get("Events")
    if events is not None:
        conn.send_events = mask_of(events)
    messages = [response(action, "Success", ("Message", "Authentication accepted"))]
    if conn.send_events & SYSTEM and conn.readperm & SYSTEM:
        uptime = str(conn.hub.uptime())
        fully_booted = event(
            "FullyBooted",
            "system",
            (("Uptime", uptime), ("LastReload", uptime), ("Status", "Fully Booted")),
        )
        messages.append(Message(fully_booted))
    conn.hub.broadcast(_successful_auth(conn))
    return Answer(tuple(messages))


def _successful_auth(conn: Mansession) -> Fields:
    return conn.security_event(
        "SuccessfulAuth",
        "Informational",
        ("AccountID", conn.username),
        ("SessionID", conn.session_id),
        ("LocalAddress", conn.local_address),
        ("RemoteAddress", conn.remote_address),
        ("UsingPassword", "0"),
        ("SessionTV", conn.session_tv),
    )


async def _challenge(conn: Mansession, action: Message) -> Answer:
    if (action.get("AuthType") or "").lower() != "md5":
        return error(action, "Must specify AuthType")
    if not conn.challenge:
        conn.challenge = str(random.randrange(1, 10**9))
    return success(action, ("Challenge", conn.challenge))


async def _logoff(conn: Mansession, action: Message) -> Answer:
    goodbye = response(action, "Goodbye", ("Message", "Thanks for all the fish."))
    return Answer((goodbye,), close=True)


async def _ping(conn: Mansession, action: Message) -> Answer:
    if not conn.hub.answer_pings:
        return Answer()
    return success(action, ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}"))


# -- session settings -------------------------------------------------------


def mask_of(text: str) -> int:
    """``EventMask``/``Events`` as Asterisk reads it: on, off, a number or classes."""
    word = text.strip().lower()
    if word.isdigit():
        return int(word) & ALL
    if not word or word in TRUE_WORDS:
        return ALL
    if word in FALSE_WORDS:
        return 0
    return parse_classes(",".join(n for n in word.split(",") if n.strip() in CLASS_BITS))


async def _events(conn: Mansession, action: Message) -> Answer:
    conn.send_events = mask_of(action.get("EventMask") or "")
    return success(action, ("Events", "On" if conn.send_events else "Off"))


async def _filter(conn: Mansession, action: Message) -> Answer:
    if (action.get("Operation") or "").lower() != "add":
        return error(action, "Unknown operation")
    expression = action.get("Filter") or ""
    include = not expression.startswith("!")
    try:
        regex = compile_posix(expression if include else expression[1:])
    except PatternError:
        return error(action, "Filter did not compile.  Check the syntax of the filter given.")
    conn.filters.append((include, regex))
    return ack(action, "Success")


# -- commands ---------------------------------------------------------------


async def _listcommands(conn: Mansession, action: Message) -> Answer:
    lines = [
        (info.name, f"{info.synopsis}  (Priv: {info.privilege})")
        for info in ACTIONS
        if not info.classes or conn.writeperm & parse_classes(info.classes)
    ]
    return success(action, *lines)


def _cli(conn: Mansession, command: str) -> list[str] | None:
    if command == "core show version":
        return [VERSION_LINE]
    if command == "manager show commands":
        return show_commands_lines()
    if command == "core show uptime":
        uptime = conn.hub.uptime()
        return [f"System uptime: {uptime} seconds", f"Last reload: {uptime} seconds"]
    if command == "core show channels count":
        count = len(conn.hub.pbx.channels)
        return [f"{count} active channels", f"{count // 2} active calls"]
    return None


async def _command(conn: Mansession, action: Message) -> Answer:
    command = " ".join((action.get("Command") or "").split())
    if not command:
        return error(action, "No command provided")
    # Found as Asterisk's CLI finds it: parse_args words, ASCII case-insensitive.
    output = _cli(conn, " ".join(ascii_lower(word) for word in cli_args(command)))
    if output is None:
        help_words = " ".join(command.split()[:-1])
        line = (
            f"No such command '{command}' "
            f"(type 'core show help {help_words}' for other possible commands)"
        )
        head = response(action, "Error", ("Message", "Command output follows"), ("Output", line))
        return Answer((head,))
    return success(action, ("Message", "Command output follows"), *(("Output", o) for o in output))


def _raw_lines(action: Message) -> list[str]:
    """The action's lines as the client wrote them (header case and spacing kept)."""
    if action.raw:
        return decode(action.raw).split("\r\n")[: len(action)]
    return [value if key == OPAQUE else f"{key}: {value}" for key, value in action]


async def _userevent(conn: Mansession, action: Message) -> Answer:
    name = action.get("UserEvent") or ""
    if not name:
        return error(action, "Missing UserEvent")
    lines = [line for line in _raw_lines(action) if not line.lower().startswith(PASSTHROUGH_SKIP)]
    passed = tuple((OPAQUE, line) for line in lines)
    conn.hub.broadcast(event("UserEvent", "user", (("UserEvent", name),), passed))
    return ack(action, "Event Sent")


HANDLERS: Final[dict[str, Handler]] = {
    "login": _login,
    "challenge": _challenge,
    "logoff": _logoff,
    "ping": _ping,
    "events": _events,
    "filter": _filter,
    "listcommands": _listcommands,
    "command": _command,
    "userevent": _userevent,
    **CALL_ACTIONS,
}
