"""WaitEvent's ``Extension``: an operator's session reads its own calls only.

Against the simulator running the captures' dialplan (tests/fixtures/asterisk-22):
a client's call to 400, which dials extension 100 (a direct call), and at
the same time one to 500, which queues it to the member Local/200 (a queue
call).  An unnarrowed session reads both; a session narrowed to 100 must read
exactly the first call's events (every leg, from its first event: those
before 100 rang come in a block just before the event that rang it) and one
narrowed to 200 exactly the second's.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.app import GATEWAY
from gateway.simulator import Simulator
from tests.support.harness import Client, MakeClient, login, start, until
from tests.support.onec_gateway import TIME_SCALE, incoming

Event = dict[str, Any]


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    """Calls at the 1C kit's pace (instead of tests/conftest.py's simulator)."""
    sim = Simulator(auth_fail_delay=0.05, time_scale=TIME_SCALE)
    await sim.start()
    yield sim
    await sim.stop()


async def poll(client: Client, session: str, query: str) -> tuple[list[Event], str]:
    response = await client.get(
        f"/asterisk/json?action=WaitEvent&{query}", headers={"Cookie": f"mansession_id={session}"}
    )
    answer = json.loads(await response.text())
    assert answer["response"]["Response"] == "Success", answer
    *events, complete = answer["events"]
    return events, complete["Cursor"]


async def read_all(client: Client, session: str, cursor: str, extension: str) -> list[Event]:
    """Every event after ``cursor``, poll by poll, until an empty answer."""
    events: list[Event] = []
    while True:
        more, cursor = await poll(client, session, f"Timeout=0&cursor={cursor}&{extension}")
        if not more:
            return events
        events += more


def key(event: Event) -> str:
    return json.dumps(event, sort_keys=True)


def of_call(events: list[Event], linkedid: str) -> list[Event]:
    """The events of a call: any of its channels (``Linkedid``, ``DestLinkedid``,
    LocalBridge's ``LocalOneLinkedid``, ...) is one of the call's."""
    return [e for e in events if linkedid in (v for k, v in e.items() if k.endswith("Linkedid"))]


def ringing(events: list[Event], extension: str) -> Event:
    """The first event of a call that names a channel of ``extension``."""
    return next(e for e in events if f"Local/{extension}@" in e.get("Channel", ""))


async def test_an_operator_reads_its_direct_and_its_queue_calls_only(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    log = client.app[GATEWAY].log
    sessions = {name: await login(client) for name in ("all", "100", "200", "none")}
    start_cursor = str(log.last_seq)
    incoming(simulator, "400", 1)  # dials extension 100
    incoming(simulator, "500", 1)  # queues to member 200
    await until(lambda: not simulator.pbx.channels and log.last_seq > int(start_cursor), 10)
    everything = await read_all(client, sessions["all"], start_cursor, "")
    direct = ringing(everything, "100")["Linkedid"]
    queued = ringing(everything, "200")["Linkedid"]
    assert direct != queued
    views = {}
    for name in ("100", "200", "none"):
        narrowed = f"Extension={name if name != 'none' else '999'}"
        views[name] = await read_all(client, sessions[name], start_cursor, narrowed)
    assert views["none"] == []
    for name, linkedid, other in (("100", direct, queued), ("200", queued, direct)):
        view = views[name]
        assert of_call(view, other) == []
        # Every event of its call, from the first, each once: the call's events,
        # the events that give one of its channels' Uniqueid (Cdr, OriginateResponse)
        # and those that name the extension's device (DeviceStateChange).
        mine = of_call(everything, linkedid)
        channels = {e["Uniqueid"] for e in mine if "Uniqueid" in e}
        rest = [e for e in everything if e not in mine]
        legs = [e for e in rest if channels & {e.get("UniqueID"), e.get("Uniqueid")}]
        device = [e for e in rest if e.get("Device") == f"Local/{name}@test"]
        assert Counter(map(key, view)) == Counter(map(key, mine + legs + device))
        assert {"Cdr", "DeviceStateChange"} <= {e["Event"] for e in legs + device}
        assert {"Newchannel", "DialBegin", "Hangup"} <= {e["Event"] for e in view}
        # The events before the extension rang come as one block, in order, just before it.
        rang = ringing(everything, name)
        before = mine[: mine.index(rang)]
        at = view.index(rang)
        assert view[at - len(before) : at] == before
        assert [e for e in view[at:] if e in mine] == mine[mine.index(rang) :]
    queue_events = {e["Event"] for e in views["200"]}
    assert {"QueueCallerJoin", "AgentCalled", "AgentConnect"} <= queue_events


async def test_a_view_resumes_by_cursor_without_repeats(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    """A lost answer asked for again gives the same events; the next one none again."""
    client = await start(simulator, aiohttp_client)
    log = client.app[GATEWAY].log
    session = await login(client)
    start_cursor = str(log.last_seq)
    incoming(simulator, "400", 1)
    await until(lambda: not simulator.pbx.channels and log.last_seq > int(start_cursor), 10)
    first, cursor = await poll(client, session, f"Timeout=0&cursor={start_cursor}&Extension=100")
    again, same = await poll(client, session, f"Timeout=0&cursor={start_cursor}&Extension=100")
    assert (again, same) == (first, cursor)
    assert first
    rest, _ = await poll(client, session, f"Timeout=0&cursor={cursor}&Extension=100")
    assert not {key(e) for e in rest} & {key(e) for e in first}


@pytest.mark.parametrize("value", ["1 01", "101/x", "a;b", ",", "x" * 81])
async def test_a_bad_extension_is_refused(
    simulator: Simulator, aiohttp_client: MakeClient, value: str
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    response = await client.get(
        "/asterisk/json",
        params={"action": "WaitEvent", "Timeout": "0", "Extension": value},
        headers={"Cookie": f"mansession_id={session}"},
    )
    answer = json.loads(await response.text())
    assert answer["response"] == {"Response": "Error", "Message": "Invalid extension"}
