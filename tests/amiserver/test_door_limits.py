"""The AMI door's limits and life: slow readers, the ring, logins that wait,
session counts, the request rate, drain and reload."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

import pytest

from gateway.amiserver import AmiDoor
from gateway.core.replies import Door, Peer
from gateway.errors import TooManySessions
from gateway.lifecycle import drain, reload_config
from gateway.simulator import Simulator
from gateway.tasks import cancel_and_wait
from tests.support.amidoor import BANNER, DoorRun, door_client, door_gateway
from tests.support.harness import TEST_USERS, gateway_config, until
from tests.support.simclient import Client

PADDING = ("Padding", "x" * 1000)


def flood(simulator: Simulator, count: int, name: str = "Flood") -> None:
    for i in range(count):
        simulator.emit([("Event", name), ("Privilege", "user,all"), ("Seq", str(i)), PADDING])


def reading_side(client: Client) -> asyncio.ReadTransport:
    transport = client.writer.transport
    assert isinstance(transport, asyncio.ReadTransport)
    return transport


def write_buffer(run: DoorRun) -> int:
    """The largest output buffer of the door's connections right now."""
    return max(
        (conn._writer.transport.get_write_buffer_size() for conn in run.door._connections),
        default=0,
    )


async def test_a_client_that_stops_reading_costs_its_buffer_then_is_dropped(
    simulator: Simulator,
) -> None:
    door = {"write_timeout": 1.0, "buffer_bytes": 65536}
    async with door_gateway(simulator.port, ami_server=door) as run:
        stalled = await door_client(run.port, rcvbuf=4096)
        reading_side(stalled).pause_reading()  # reads nothing from now on
        reading = await door_client(run.port)
        # The reading client reads all along (a StreamReader nobody reads pauses
        # its socket at 128 KiB, and the door would rightly drop it too).
        keeping_up = asyncio.create_task(reading.until("no message has this value"))
        peak = 0
        started = time.monotonic()
        while run.door.connections == 2:
            flood(simulator, 200)
            await asyncio.sleep(0.01)
            peak = max(peak, write_buffer(run))
            assert time.monotonic() - started < 10
        elapsed = time.monotonic() - started
        assert not keeping_up.done()
        await cancel_and_wait(keeping_up)
        reading.messages.clear()
        # Bounded by buffer_bytes plus one event (a pump always sends whole events).
        assert peak < 65536 + 2048
        assert elapsed >= 1.0  # write_timeout with no progress at all
        assert run.gateway.sessions.count(Door.AMI) == 1
        reading.send("Action: Ping", "ActionID: alive")
        assert (await reading.until("alive")).get("Ping") == "Pong"
        reading.close()
        stalled.close()


async def test_a_stalled_clients_kernel_buffer_is_bounded_too(simulator: Simulator) -> None:
    """Linux grows a socket's send buffer up to tcp_wmem's maximum (MiB) for a
    client that reads nothing: the door bounds it by ``buffer_bytes``, as the
    push streams do, so the kernel too holds about that much, not the flood."""
    door = {"write_timeout": 30.0, "buffer_bytes": 65536}
    async with door_gateway(simulator.port, ami_server=door) as run:
        stalled = await door_client(run.port, rcvbuf=4096)
        reading_side(stalled).pause_reading()
        for _ in range(10):  # 2,000 events of ~1 KB, in bursts the kernel could take
            flood(simulator, 200)
            await run.settle()
        (connection,) = run.door._connections
        # The transport's buffer_bytes, the kernel's doubled SO_SNDBUF, the
        # client's doubled receive buffer, and one event over.
        assert connection.written < 65536 + 2 * 65536 + 2 * 4096 + 2048
        stalled.close()


async def test_a_client_behind_the_ring_is_told_how_many_it_lost(simulator: Simulator) -> None:
    door = {"write_timeout": 30.0, "buffer_bytes": 65536}
    async with door_gateway(simulator.port, ami_server=door, events={"ring_size": 100}) as run:
        slow = await door_client(run.port, rcvbuf=4096)
        reading_side(slow).pause_reading()
        flood(simulator, 400)
        log = run.gateway.log
        await until(lambda: log.held == 100 and log.evicted_by_count >= 300)
        reading_side(slow).resume_reading()
        lost = await slow.until("GatewayEventsLost")
        missed = int(lost.get("Lost") or 0)
        assert missed > 0
        seqs = [int(m.get("Seq") or -1) for m in slow.before if m.name == "Flood"]
        assert seqs == list(range(len(seqs)))  # in order up to the gap
        after = await slow.until("Flood")
        assert int(after.get("Seq") or -1) == len(seqs) + missed  # and on after it
        slow.close()


async def test_a_connection_that_never_logs_in_is_closed_silently(simulator: Simulator) -> None:
    async with door_gateway(simulator.port, ami_server={"auth_timeout": 1}) as run:
        reader, writer = await asyncio.open_connection("127.0.0.1", run.port)
        started = time.monotonic()
        writer.write(b"Action: Ping\r\nActionID: early\r\n\r\n")  # input does not extend it
        data = await asyncio.wait_for(reader.read(), 5)
        assert data.startswith(BANNER)
        assert b"Permission denied" in data
        assert 0.9 < time.monotonic() - started < 4
        writer.close()


async def test_max_unauthenticated_closes_before_the_banner(simulator: Simulator) -> None:
    async with door_gateway(simulator.port, ami_server={"max_unauthenticated": 2}) as run:
        waiting = [await door_client(run.port, None) for _ in range(2)]
        reader, writer = await asyncio.open_connection("127.0.0.1", run.port)
        assert await asyncio.wait_for(reader.read(), 5) == b""  # not even the banner
        writer.close()
        waiting[0].send("Action: Login", "ActionID: in", "Username: admin", "Secret: admin-secret")
        await waiting[0].until("in")
        third = await door_client(run.port, None)  # room again once one logged in
        for client in (*waiting, third):
            client.close()
        assert run.door.refused == 1


async def test_sessions_count_across_both_doors(simulator: Simulator) -> None:
    users = {name: dict(user) for name, user in TEST_USERS.items()}
    users["admin"]["max_sessions"] = 1  # type: ignore[assignment]
    async with door_gateway(simulator.port, users=users) as run:
        first = await door_client(run.port)
        second = await door_client(run.port, None)
        second.send("Action: Login", "ActionID: two", "Username: admin", "Secret: admin-secret")
        assert (await second.until("two")).get("Message") == "Too many sessions"
        assert await second.closed()
        http = run.gateway.sessions.create("127.0.0.1", time.monotonic(), 0)  # an AJAM login
        login = [("Action", "Login"), ("Username", "admin"), ("Secret", "admin-secret")]
        try:
            await run.gateway.dispatcher.handle(http, login, Peer("127.0.0.1"), time.monotonic())
        except TooManySessions:
            pass
        else:
            raise AssertionError("the AMI connection did not count for the HTTP login")
        first.close()
    async with door_gateway(simulator.port, limits={"max_sessions": 2}) as run:
        clients = [await door_client(run.port, None) for _ in range(2)]
        reader, writer = await asyncio.open_connection("127.0.0.1", run.port)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        for client in clients:
            client.close()


async def test_over_the_rate_an_action_waits_its_turn_none_is_refused(
    simulator: Simulator,
) -> None:
    async with door_gateway(simulator.port, limits={"rate_per_session": 10}) as run:
        client = await door_client(run.port)
        started = time.monotonic()
        client.writer.write(
            b"".join(b"Action: Ping\r\nActionID: r%d\r\n\r\n" % i for i in range(20))
        )
        for i in range(20):
            assert (await client.until(f"r{i}")).get("Ping") == "Pong"
        assert time.monotonic() - started >= 0.8  # a burst of 10, then 10 a second
        client.close()


async def test_drain_sends_shutdown_to_system_readers_then_closes(simulator: Simulator) -> None:
    users = {**TEST_USERS, "calls": {"secret": "calls-secret", "read": "call", "write": "none"}}
    async with door_gateway(simulator.port, users=users) as run:
        admin = await door_client(run.port)
        calls = await door_client(run.port, "calls", "calls-secret")
        simulator.emit([("Event", "BeforeDrain"), ("Privilege", "call,all")])
        await admin.until("BeforeDrain")
        await drain(run.gateway, 0.2)
        shutdown = await admin.until("Shutdown")
        assert shutdown.fields == (
            ("Event", "Shutdown"),
            ("Privilege", "system,all"),
            ("Shutdown", "Cleanly"),
            ("Restart", "False"),
        )
        assert await admin.closed()
        await calls.until("BeforeDrain")  # what came before the drain, then nothing
        assert await calls.closed()
        assert not [m for m in calls.messages if m.name == "Shutdown"]
        try:
            await asyncio.open_connection("127.0.0.1", run.port)
        except ConnectionRefusedError:
            pass
        else:
            raise AssertionError("the door still listens during a drain")


async def test_reload_ends_a_removed_users_connection_and_applies_new_rights(
    simulator: Simulator,
) -> None:
    async with door_gateway(simulator.port) as run:
        admin, reader = await door_client(run.port), await door_client(run.port, "reader")
        users = {name: dict(user) for name, user in TEST_USERS.items()}
        users["admin"]["read"] = "system"
        new = gateway_config(simulator.port, users=users)
        new = dataclasses.replace(
            new,
            users={k: v for k, v in new.users.items() if k != "reader"},
            ami_server=run.gateway.config.ami_server,
        )
        assert reload_config(run.app, new) == []
        assert await reader.closed()
        simulator.emit([("Event", "CallEvent"), ("Privilege", "call,all")])
        admin.send("Action: Ping", "ActionID: after")
        await admin.until("after")
        assert not [m for m in admin.before if m.name == "CallEvent"]
        admin.close()


async def test_the_clients_gauge_and_the_door_label(door: DoorRun) -> None:
    registry = door.gateway.metrics.registry
    client = await door_client(door.port)
    waiting = await door_client(door.port, None)
    client.send("Action: Ping", "ActionID: m")
    await client.until("m")

    def gauge(state: str) -> float | None:
        return registry.get_sample_value("ajam_ami_clients", {"state": state})

    assert (gauge("authenticated"), gauge("unauthenticated")) == (1, 1)
    labels = {"action": "Ping", "outcome": "success", "door": "ami"}
    assert registry.get_sample_value("ajam_actions_total", labels) == 1
    assert registry.get_sample_value("ajam_sessions", {"state": "authenticated"}) == 0
    client.close()
    waiting.close()
    await until(lambda: door.door.connections == 0)
    assert (gauge("authenticated"), gauge("unauthenticated")) == (0, 0)


async def test_the_access_log_redacts_secrets(
    door: DoorRun, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "gateway.amiserver.access"):
        client = await door_client(door.port, None)
        client.send(
            "Action: Login", "ActionID: a", "Username: admin", "AuthType: md5", "Key: deadbeef"
        )
        await client.until("a")
        client.close()
    line = next(r.getMessage() for r in caplog.records if r.name == "gateway.amiserver.access")
    assert "Key=***" in line
    assert "deadbeef" not in line
    assert line.startswith('127.0.0.1 - "AMI Action=Login&ActionID=a&Username=admin')
    assert " Error " in line


async def test_log_access_false_silences_the_doors_access_log(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    async with door_gateway(simulator.port, log={"access": False}) as run:
        with caplog.at_level(logging.INFO, "gateway.amiserver.access"):
            client = await door_client(run.port)
            client.send("Action: Ping", "ActionID: quiet")
            await client.until("quiet")
            client.close()
    assert not [r for r in caplog.records if r.name == "gateway.amiserver.access"]
    labels = {"action": "Ping", "outcome": "success", "door": "ami"}
    assert run.gateway.metrics.registry.get_sample_value("ajam_actions_total", labels) == 1


async def test_a_client_that_logged_in_outlives_the_auth_timeout(simulator: Simulator) -> None:
    async with door_gateway(simulator.port, ami_server={"auth_timeout": 1}) as run:
        client = await door_client(run.port)
        await asyncio.sleep(1.3)
        client.send("Action: Ping", "ActionID: still-here")
        assert (await client.until("still-here")).get("Ping") == "Pong"
        client.close()


async def test_refusals_are_logged_once_per_thousand_and_an_unstarted_door_closes(
    door: DoorRun, caplog: pytest.LogCaptureFixture
) -> None:
    idle = AmiDoor(door.door._parts)
    idle.stop_listening()  # never started: nothing to stop
    await idle.close()
    async with door_gateway(
        door.gateway.config.ami.port, ami_server={"max_unauthenticated": 1}
    ) as run:
        waiting = await door_client(run.port, None)
        with caplog.at_level(logging.WARNING, "gateway.amiserver"):
            for _ in range(3):
                reader, writer = await asyncio.open_connection("127.0.0.1", run.port)
                assert await asyncio.wait_for(reader.read(), 5) == b""
                writer.close()
        assert run.door.refused == 3
        refusals = [r for r in caplog.records if "refused: over max_unauthenticated" in r.message]
        assert len(refusals) == 1
        waiting.close()


async def test_a_trusted_proxy_names_the_client_and_nothing_else_passes(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    async with door_gateway(
        simulator.port, ami_server={"trusted_proxies": ["127.0.0.1/32"], "auth_timeout": 1}
    ) as run:
        reader, writer = await asyncio.open_connection("127.0.0.1", run.port)
        writer.write(b"PROXY TCP4 192.0.2.7 127.0.0.1 40001 5039\r\n")
        assert await asyncio.wait_for(reader.readline(), 5) == BANNER
        client = Client(reader, writer)
        with caplog.at_level(logging.WARNING, "gateway.security"):
            client.send("Action: Login", "ActionID: x", "Username: admin", "Secret: wrong")
            await client.until("Authentication failed")
        assert "address=192.0.2.7 user='admin'" in caplog.text
        client.close()
        for first in (b"Action: Login\r\n", b"PROXY UNKNOWN\r\n", b""):
            reader, writer = await asyncio.open_connection("127.0.0.1", run.port)
            writer.write(first)
            assert await asyncio.wait_for(reader.read(), 5) == b""  # not even the banner
            writer.close()
