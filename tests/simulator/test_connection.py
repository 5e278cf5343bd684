"""A manager session over a real socket: input handling, event delivery, limits."""

from __future__ import annotations

import asyncio

from gateway.ami.codec import MAX_ACTION_LINES
from gateway.simulator import Simulator
from gateway.simulator.connection import event_tv
from tests.support.fixturedata import ami_sent
from tests.support.simclient import Client, connect

LOGIN = b"Action: Login\r\nActionID: login-1\r\nUsername: admin\r\nSecret: admin-secret\r\n\r\n"


async def test_actions_written_byte_by_byte(settled_client: Client) -> None:
    data = (
        b"Action: Ping\r\nActionID: slow-1\r\n\r\n"
        b"Action: Ping\r\nActionID: slow-2\r\n\r\nAction: Pi"
    )
    for byte in data:
        settled_client.writer.write(bytes([byte]))
        await settled_client.writer.drain()
    assert (await settled_client.until("slow-1")).get("Ping") == "Pong"
    assert (await settled_client.until("slow-2")).get("Ping") == "Pong"
    settled_client.writer.write(b"ng\r\nActionID: slow-3\r\n\r\n")  # the partial action completes
    assert (await settled_client.until("slow-3")).get("Ping") == "Pong"


async def test_a_captured_session_fed_whole(sim: Simulator) -> None:
    settled_client = await connect(sim, None)
    settled_client.writer.write(ami_sent("permission_denied_reader"))  # every action in one write
    assert (await settled_client.until("pd-orig")).get("Message") == "Permission denied"
    assert (await settled_client.until("pd-ping")).get("Ping") == "Pong"
    settled_client.close()


async def test_an_overlong_line_fails_its_message_only(
    settled_client: Client, sim: Simulator
) -> None:
    long_line = b"Data: " + b"X" * 1500
    settled_client.writer.write(
        b"Action: UserEvent\r\nActionID: long-1\r\nUserEvent: L\r\n" + long_line + b"\r\n"
        b"Trailing: ignored\r\n\r\nAction: Ping\r\nActionID: after\r\n\r\n"
    )
    failed = await settled_client.until("long-1")
    assert failed.fields == (
        ("Response", "Error"),
        ("ActionID", "long-1"),
        ("Message", "Failed to parse message: line too long"),
    )
    assert (await settled_client.until("after")).get("Ping") == "Pong"
    assert not any(m.name == "UserEvent" for m in settled_client.messages)
    assert sim.received[-2].get("ActionID") == "long-1"


async def test_a_line_of_exactly_1022_characters_is_accepted(settled_client: Client) -> None:
    value = "y" * (1022 - len("Header: "))
    settled_client.writer.write(
        f"Action: UserEvent\r\nActionID: edge\r\nUserEvent: E\r\nHeader: {value}\r\n\r\n".encode()
    )
    assert (await settled_client.until("edge")).get("Message") == "Event Sent"
    assert (await settled_client.until("E")).get("Header") == value


async def test_a_message_over_128_lines_is_refused_whole(
    settled_client: Client, sim: Simulator
) -> None:
    """do_message: a 129th line sets hdr_loss; nothing runs, the ActionID is
    the one among the first 128 lines."""
    filler = b"".join(b"X-%d: 1\r\n" % i for i in range(MAX_ACTION_LINES))
    settled_client.writer.write(
        b"Action: Ping\r\nActionID: counted\r\n" + filler + b"ActionID: too-late\r\n\r\n"
    )
    reply = await settled_client.until("counted")
    assert reply.get("Message") == "Too many lines in message or allocation failure"
    assert len(sim.received[-1]) == MAX_ACTION_LINES
    settled_client.writer.write(b"\r\n")  # a blank line alone: a message without an action
    assert (await settled_client.until("Missing action in request")).get("ActionID") is None


async def test_events_wait_until_the_action_is_answered(settled_client: Client) -> None:
    settled_client.writer.write(
        b"Action: Originate\r\nActionID: sync\r\nChannel: Local/100@test\r\n"
        b"Application: Wait\r\nData: 1\r\nAsync: false\r\n\r\n"
    )
    response = await settled_client.until("sync")
    assert settled_client.before == []  # nothing came before the answer
    assert response.get("Message") == "Originate successfully queued"
    await settled_client.until("Newchannel")


async def test_filters_include_then_exclude(settled_client: Client, sim: Simulator) -> None:
    settled_client.writer.write(
        b"Action: Filter\r\nActionID: f1\r\nOperation: Add\r\nFilter: Event: Custom\r\n\r\n"
        b"Action: Filter\r\nActionID: f2\r\nOperation: Add\r\nFilter: !Drop: yes\r\n\r\n"
    )
    await settled_client.until("f2")
    sim.emit([("Event", "Other"), ("Privilege", "user,all")])
    sim.emit([("Event", "Custom"), ("Privilege", "user,all"), ("Drop", "yes")])
    sim.emit([("Event", "Custom"), ("Privilege", "user,all"), ("Keep", "1")])
    kept = await settled_client.until("Custom")
    assert kept.get("Keep") == "1"
    assert settled_client.messages == []


async def test_event_mask_with_classes(settled_client: Client, sim: Simulator) -> None:
    settled_client.writer.write(
        b"Action: Events\r\nActionID: ev\r\nEventMask: user,garbage\r\n\r\n"
    )
    assert (await settled_client.until("ev")).get("Events") == "On"
    sim.emit([("Event", "CallOne"), ("Privilege", "call,all")])
    sim.emit([("Event", "UserOne"), ("Privilege", "user,all")])
    assert (await settled_client.until("UserOne")).name == "UserOne"
    assert settled_client.messages == []


async def test_a_client_that_never_reads_is_dropped(sim: Simulator) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    writer.write(LOGIN)
    await sim.wait_for_logins(1)
    padding = ("P", "x" * 1000)
    async with asyncio.timeout(10):
        while sim.connections:
            for _ in range(1000):
                sim.emit([("Event", "Flood"), ("Privilege", "system,all"), padding])
            await asyncio.sleep(0)
    writer.close()


def test_event_tv_format() -> None:
    assert event_tv(1795770480.917) == "2026-11-27T09:08:00.917+0000"


async def test_a_very_long_line_fails_its_message_with_its_action_id(
    settled_client: Client,
) -> None:
    settled_client.writer.write(
        b"Action: Ping\r\nActionID: huge\r\nData: " + b"Z" * 100_000 + b"\r\n\r\n"
    )
    settled_client.send("Action: Ping", "ActionID: after-huge")
    failed = await settled_client.until("Failed to parse message: line too long")
    assert failed.get("ActionID") == "huge"  # as Asterisk: any ActionID of the message
    assert (await settled_client.until("after-huge")).get("Ping") == "Pong"
