"""The simulator against the captures, and its public API, over real sockets.

Every ``ami/<case>`` is replayed (tests/support/simreplay.py) and the answer compared
with ``<case>.recv`` after masking the values that change from run to run
(tests/support/amimask.py).  How strictly depends on the case:

* EXACT: the whole masked stream, byte for byte.
* CALLS: the session's own messages in order, the broadcast events as a
  multiset (Asterisk's threads order them differently from run to run: the
  captures disagree with each other), and per channel the order of the
  events its own dialplan thread writes.
* hangup_regex_list: the two calls of that capture end with different event
  sets (a race inside Asterisk), and the hung-up channels are listed in hash
  order, so the session part is compared as a multiset, and the events by
  name only.
"""

from __future__ import annotations

import asyncio

import pytest

from gateway.simulator import Simulator, SimUser
from tests.support.fixturedata import ami_cases, ami_recv
from tests.support.simclient import connect
from tests.support.simreplay import (
    CALLS,
    EXACT,
    HOOKS,
    NAMES_ONLY,
    compare_replay,
    load_case,
    replay,
)


def test_every_case_has_a_mode() -> None:
    assert set(ami_cases()) == EXACT | CALLS | NAMES_ONLY


@pytest.mark.parametrize("case", sorted(EXACT | CALLS | NAMES_ONLY))
async def test_replay_matches_capture(replay_sim: Simulator, case: str) -> None:
    data = await replay(replay_sim, load_case(case, HOOKS))
    compare_replay(case, data, ami_recv(case))


# -- the API ------------------------------------------------------------------


async def test_stop_then_start_comes_back_on_the_same_port(server_sim: Simulator) -> None:
    port = server_sim.port
    client = await connect(server_sim)
    await server_sim.stop()
    assert await client.closed()
    assert server_sim.connections == 0
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    assert await server_sim.start() == port
    client = await connect(server_sim)
    assert server_sim.connections == 1
    assert server_sim.logins == 2
    client.close()


async def test_stop_drops_every_call_without_events(server_sim: Simulator) -> None:
    client = await connect(server_sim)
    client.send("Action: Originate", "Channel: Local/600@test", "Application: Wait", "Data: 2000")
    await client.until("Newchannel")
    assert server_sim.pbx.channels
    await server_sim.stop()
    assert not server_sim.pbx.channels
    assert await client.closed()
    assert not any(m.name == "Hangup" for m in client.messages)


async def test_shutdown_sends_the_event_then_closes(server_sim: Simulator) -> None:
    client = await connect(server_sim)
    await client.until("SuccessfulAuth")
    await server_sim.shutdown(restart=False)
    event = await client.until("Shutdown")
    assert event.fields == (
        ("Event", "Shutdown"),
        ("Privilege", "system,all"),
        ("Shutdown", "Cleanly"),
        ("Restart", "False"),
    )
    assert await client.closed()
    assert server_sim.connections == 0
    port = server_sim.port
    assert await server_sim.start() == port  # Asterisk came back after its restart
    (await connect(server_sim)).close()


async def test_answer_pings_false_swallows_ping_only(server_sim: Simulator) -> None:
    server_sim.answer_pings = False
    client = await connect(server_sim)
    client.send("Action: Ping", "ActionID: p1")
    client.send("Action: Getvar", "ActionID: g1", "Variable: LEN(ab)")
    await client.until("g1")
    assert not any(m.get("ActionID") == "p1" for m in client.before)
    assert [m.get("ActionID") for m in server_sim.received][-2:] == ["p1", "g1"]
    server_sim.answer_pings = True
    client.send("Action: Ping", "ActionID: p2")
    assert (await client.until("p2")).get("Ping") == "Pong"
    client.close()


async def test_emit_reaches_only_sessions_that_may_read_it(server_sim: Simulator) -> None:
    admin = await connect(server_sim, "admin")
    reader = await connect(server_sim, "reader")
    server_sim.emit([("Event", "UserThing"), ("Privilege", "user,all"), ("X", "1")])
    server_sim.emit([("Event", "CallThing"), ("Privilege", "call,all"), ("X", "2")])
    await reader.until("CallThing")
    assert not any(m.name == "UserThing" for m in reader.before)
    assert (await admin.until("UserThing")).get("X") == "1"
    await admin.until("CallThing")
    admin.close()
    reader.close()


async def test_emit_skips_sessions_not_logged_in(server_sim: Simulator) -> None:
    client = await connect(server_sim, None)
    server_sim.emit([("Event", "Early"), ("Privilege", "system,all")])
    client.send("Action: Ping", "ActionID: before")
    assert (await client.until("before")).get("Message") == "Permission denied"
    assert client.before == []
    client.close()


async def test_call_events_stream_full_calls() -> None:
    server_sim = Simulator(call_events=5.0, time_scale=0.02)
    await server_sim.start()
    try:
        client = await connect(server_sim)
        names = []
        for _ in range(4):
            await client.until("Cdr")
            names += [m.name for m in client.before]
        assert "Newchannel" in names
        assert "Hangup" in names
        assert "OriginateResponse" not in names  # nobody originated them
        assert "NewCallerid" in names
        client.close()
    finally:
        await server_sim.stop()


async def test_custom_users_and_wait_for_logins_timeout() -> None:
    server_sim = Simulator(users={"bob": SimUser("pw", read="call", write="")}, time_scale=0.01)
    await server_sim.start()
    try:
        client = await connect(server_sim, None)
        client.send("Action: Login", "ActionID: l1", "Username: bob", "Secret: pw")
        await server_sim.wait_for_logins(1)
        with pytest.raises(TimeoutError):
            await server_sim.wait_for_logins(2, timeout=0.05)
        client.send("Action: Command", "ActionID: c", "Command: core show version")
        assert (await client.until("c")).get("Message") == "Permission denied"
        assert not any(m.name == "FullyBooted" for m in client.before)  # no system class
        client.close()
    finally:
        await server_sim.stop()


async def test_start_twice_is_refused(server_sim: Simulator) -> None:
    with pytest.raises(RuntimeError):
        await server_sim.start()


async def test_written_to_counts_every_byte_a_connection_was_sent(server_sim: Simulator) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server_sim.port)
    host, port = writer.get_extra_info("sockname")[:2]
    address = f"IPV4/TCP/{host}/{port}"
    banner = await reader.readline()
    assert server_sim.written_to(address) == len(banner)
    writer.write(b"Action: Ping\r\n\r\n")
    answer = await reader.readuntil(b"\r\n\r\n")
    assert server_sim.written_to(address) == len(banner) + len(answer)
    assert server_sim.written_to("IPV4/TCP/127.0.0.1/1") == 0
    writer.close()
    await writer.wait_closed()
