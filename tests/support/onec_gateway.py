"""The gateway the 1C kit tests talk to: a kit user, a fixed port (so that a
restarted gateway is found where the module's settings say), optional TLS."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

from aiohttp import web

from gateway.app import GATEWAY
from gateway.simulator import Simulator
from gateway.simulator.dialplan import OriginateRequest
from tests.support.harness import new_app, until, wait_ready
from tests.support.onec_platform import Map, Structure
from tests.support.onec_twin import log_in, new_connection, new_settings, parse_wait, wait_events

PASSWORD: Final = "пароль-crm"  # Cyrillic: Basic credentials are UTF-8
KIT_USERS: Final = {
    # What clients/1c/README.md asks for: call and agent events, the gateway's
    # own system events, CDRs for the history; Originate only.
    "crm": {"secret": PASSWORD, "read": "call,agent,system,cdr", "write": "originate"},
    "nocdr": {"secret": PASSWORD, "read": "call", "write": "originate"},
}
CLIENT: Final = ("Иван Петров", "79120000000")
TIME_SCALE: Final = 0.05
"""Simulated seconds run 20 times faster: a queue call takes a fraction of a second."""


async def start_simulator() -> Simulator:
    sim = Simulator(auth_fail_delay=0.05, time_scale=TIME_SCALE)
    await sim.start()
    return sim


def kit_app(
    sim: Simulator, users: dict[str, dict[str, str]] | None = None, **sections: Any
) -> web.Application:
    return new_app(sim.port, users={**KIT_USERS, **(users or {})}, **sections)


@contextlib.asynccontextmanager
async def serve(
    app: web.Application, port: int = 0, tls: ssl.SSLContext | None = None
) -> AsyncIterator[int]:
    """The app on 127.0.0.1:``port`` (0: any), as ``ajam-gateway`` runs it; yields the port."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.SockSite(runner, socket.create_server(("127.0.0.1", port)), ssl_context=tls)
    await site.start()
    try:
        await wait_ready(app)
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


def kit_settings(port: int, **changes: Any) -> Structure:
    """НовыеНастройки() as a test configures them: plain HTTP to 127.0.0.1 (the
    module allows that only for localhost), the simulator's dialplan."""
    settings = new_settings("127.0.0.1", "crm", PASSWORD)
    settings.Порт = port
    settings.ЗащищенноеСоединение = False
    settings.ШаблонКанала = "Local/%1@test"
    settings.Контекст = "test"
    settings.Таймаут = 5
    settings.ТаймаутОжидания = 1
    for name, value in changes.items():
        setattr(settings, name, value)
    return settings


def incoming(sim: Simulator, extension: str, seconds: float = 3) -> None:
    """A client's call into the PBX: ``extension``'s dialplan runs with the
    client's CallerID (400 dials 100; 500 queues to member 200)."""
    request = OriginateRequest(
        channel=f"Local/{extension}@test", application="Wait", data=str(seconds), callerid=CLIENT
    )
    assert sim.pbx.originate(request) is not None


async def quiet(sim: Simulator, app: web.Application, after: int) -> None:
    """Until every call has ended and the gateway has read past ``after``."""
    log = app[GATEWAY].log
    await until(lambda: not sim.pbx.channels and log.last_seq > after, timeout=10)


async def events_of_calls(
    settings: Structure, start: Callable[[], None], done: Callable[[list[Map]], bool]
) -> list[Map]:
    """Every event a kit session receives from a login until ``done``, read as
    the module reads them (Войти, then ЖдатьСобытия with the cursor)."""
    session = Structure.new("Соединение, ВходОтклонен", new_connection(settings, 10), False)
    session_id = await log_in(settings, session)
    at_once, waiting = Structure(settings), Structure(settings)
    at_once.ТаймаутОжидания, waiting.ТаймаутОжидания = 0, 2
    parsed = parse_wait(await wait_events(at_once, session.Соединение, session_id, None))
    cursor = parsed.Курсор
    events: list[Map] = []
    start()
    async with asyncio.timeout(20):
        while not done(events):
            answer = await wait_events(waiting, session.Соединение, session_id, cursor)
            parsed = parse_wait(answer)
            cursor = parsed.Курсор
            events += parsed.События
    return events
