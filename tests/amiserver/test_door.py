"""The AMI door end to end: logins, actions, events, as Asterisk 22 answers."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
import time
from pathlib import Path

import pytest

from gateway.core.replies import Door
from gateway.simulator import Simulator
from tests.support.amidoor import BANNER, DoorRun, door_client, door_gateway
from tests.support.certs import self_signed
from tests.support.harness import until
from tests.support.simclient import Client


async def test_login_answers_fully_booted_then_its_own_successful_auth(door: DoorRun) -> None:
    client = await door_client(door.port, None)
    client.send("Action: Login", "ActionID: l1", "Username: admin", "Secret: admin-secret")
    answer = await client.until("l1")
    assert answer.fields == (
        ("Response", "Success"),
        ("ActionID", "l1"),
        ("Message", "Authentication accepted"),
    )
    booted = await client.until("FullyBooted")
    assert booted.get("Privilege") == "system,all"
    auth = await client.until("SuccessfulAuth")
    assert auth.get("AccountID") == "admin"
    assert auth.get("Service") == "AMI"
    client.close()


async def test_before_login_only_login_logoff_and_challenge(door: DoorRun) -> None:
    client = await door_client(door.port, None)
    client.send("Action: Ping", "ActionID: early")
    assert (await client.until("early")).get("Message") == "Permission denied"
    client.send("ActionID: none")
    assert (await client.until("none")).get("Message") == "Missing action in request"
    client.send("Action: Logoff", "ActionID: bye")
    assert (await client.until("bye")).name == "Goodbye"
    assert await client.closed()


async def test_a_failed_login_is_answered_after_the_delay_then_closed(
    door: DoorRun, caplog: pytest.LogCaptureFixture
) -> None:
    client = await door_client(door.port, None)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, "gateway.security"):
        client.send("Action: Login", "ActionID: bad", "Username: admin", "Secret: wrong")
        answer = await client.until("bad")
        assert answer.get("Message") == "Authentication failed"
        assert time.monotonic() - started >= door.gateway.gate.fail_delay
        assert await client.closed()
    # The very line fail2ban matches for HTTP logins (deploy/fail2ban).
    assert "ajam login failure: event=InvalidPassword address=127.0.0.1 user='admin'" in (
        caplog.text
    )
    assert door.gateway.security.failed[Door.AMI, "InvalidPassword"] == 1


async def test_challenge_and_md5_login(door: DoorRun) -> None:
    client = await door_client(door.port, None)
    client.send("Action: Challenge", "ActionID: c1")
    assert (await client.until("c1")).get("Message") == "Must specify AuthType"
    client.send("Action: Challenge", "ActionID: c2", "AuthType: md5")
    challenge = (await client.until("c2")).get("Challenge") or ""
    assert challenge.isdigit()
    assert 1 <= len(challenge) <= 9
    key = hashlib.md5((challenge + "admin-secret").encode()).hexdigest()
    client.send("Action: Login", "ActionID: m1", "AuthType: MD5", "Username: admin", f"Key: {key}")
    assert (await client.until("m1")).get("Message") == "Authentication accepted"
    client.send("Action: Login", "ActionID: again", "Username: admin", "Secret: admin-secret")
    assert (await client.until("again")).get("Message") == "Already authenticated"
    client.close()


async def test_actions_are_answered_in_order_lists_and_command_whole(door: DoorRun) -> None:
    client = await door_client(door.port)
    client.writer.write(
        b"Action: Ping\r\nActionID: p1\r\n\r\n"
        b"Action: CoreShowChannels\r\nActionID: list\r\n\r\n"
        b"Action: Command\r\nActionID: cmd\r\nCommand: core show version\r\n\r\n"
        b"action: PING\r\nactionid: p2\r\n\r\n"
    )
    assert (await client.until("p1")).get("Ping") == "Pong"
    head = await client.until("list")
    assert (head.get("EventList"), head.get("Message")) == ("start", "Channels will follow")
    complete = await client.until("CoreShowChannelsComplete")
    assert complete.get("ActionID") == "list"
    command = await client.until("cmd")
    assert command.get("Message") == "Command output follows"
    assert (command.get("Output") or "").startswith("Asterisk 22.10.1")
    assert (await client.until("p2")).get("Ping") == "Pong"
    client.close()


async def test_unknown_and_forbidden_actions(door: DoorRun, simulator: Simulator) -> None:
    client = await door_client(door.port, "reader")
    sent = len(simulator.received)
    client.send("Action: FooBar", "ActionID: u1")
    assert (await client.until("u1")).get("Message") == (
        "Invalid/unknown command: FooBar. Use Action: ListCommands to show available commands."
    )
    client.send("Action: Originate", "ActionID: o1", "Channel: Local/100@test", "Exten: 1")
    assert (await client.until("o1")).get("Message") == "Permission denied"
    assert len(simulator.received) == sent  # nothing reached Asterisk
    client.close()


async def test_bad_input_is_refused_and_nothing_reaches_asterisk(
    door: DoorRun, simulator: Simulator
) -> None:
    client = await door_client(door.port)
    sent = len(simulator.received)
    client.writer.write(
        b"Action: UserEvent\r\nActionID: cr\r\nUserEvent: x\rAction: Logoff\r\n\r\n"
        b"Action: UserEvent\r\nActionID: nul\r\nUserEvent: a\x00b\r\n\r\n"
        b"Action: UserEvent\r\nActionID: long\r\nUserEvent: " + b"x" * 1100 + b"\r\n\r\n"
        b"Action: UserEvent\r\nActionID: bare\r\nUserEvent: y\r\nno colon\r\n\r\n"
        b"\r\n"
        b"Action: Ping\r\nActionID: after\r\n\r\n"
    )
    assert (await client.until("cr")).get("Message") == "Invalid character in request"
    assert (await client.until("nul")).get("Message") == "Invalid character in request"
    assert (await client.until("long")).get("Message") == "Failed to parse message: line too long"
    assert (await client.until("bare")).get("Message") == "Invalid character in request"
    assert (await client.until("Missing action in request")).get("ActionID") is None
    assert (await client.until("after")).get("Ping") == "Pong"
    await until(lambda: len(simulator.received) > sent)
    assert [m.get("Action") for m in simulator.received[sent:]] == ["Ping"]
    client.close()


async def test_events_stream_by_class_mask_and_filter(door: DoorRun, simulator: Simulator) -> None:
    admin, reader = await door_client(door.port), await door_client(door.port, "reader")
    filtered = await door_client(door.port)
    filtered.send("Action: Filter", "ActionID: f", "Operation: Add", "Filter: UserEvent: Keep")
    assert (await filtered.until("f")).get("Message") == "Success"
    simulator.emit([("Event", "UserEvent"), ("Privilege", "user,all"), ("UserEvent", "Drop")])
    simulator.emit([("Event", "UserEvent"), ("Privilege", "user,all"), ("UserEvent", "Keep")])
    simulator.emit([("Event", "Visible"), ("Privilege", "call,all")])
    await admin.until("Drop")
    await admin.until("Keep")
    await filtered.until("Keep")
    assert "Drop" not in [v for m in filtered.before for _, v in m]
    await reader.until("Visible")
    assert not [m for m in reader.before if m.get("Privilege") == "user,all"]
    admin.send("Action: Events", "ActionID: off", "EventMask: off")
    assert (await admin.until("off")).get("Events") == "Off"
    simulator.emit([("Event", "Silent"), ("Privilege", "call,all")])
    admin.send("Action: Ping", "ActionID: after-silent")
    await admin.until("after-silent")
    assert not [m for m in admin.before if m.name == "Silent"]
    for client in (admin, reader, filtered):
        client.close()


async def test_login_events_header_and_the_npm_clients_event_header(door: DoorRun) -> None:
    """``Events: off`` in the Login turns events off; ``Event: off`` (what the
    npm asterisk-manager writes) is no header Asterisk reads: events stay on."""
    off = await door_client(door.port, None)
    off.send(
        "Action: Login", "ActionID: l", "Username: admin", "Secret: admin-secret", "Events: off"
    )
    await off.until("l")
    on = await door_client(door.port, None)
    on.send("Action: Login", "ActionID: l", "Username: admin", "Secret: admin-secret", "Event: off")
    await on.until("l")
    await on.until("FullyBooted")
    off.send("Action: Ping", "ActionID: p")
    await off.until("p")
    assert off.before == []  # no FullyBooted, no SuccessfulAuth
    off.close()
    on.close()


async def test_an_async_originate_result_reaches_every_call_reader(
    door: DoorRun, simulator: Simulator
) -> None:
    originator, watcher = await door_client(door.port, "caller"), await door_client(door.port)
    originator.send(
        "Action: Originate",
        "ActionID: mine",
        "Channel: Local/100@test",
        "Application: Wait",
        "Data: 1",
        "Async: true",
    )
    assert (await originator.until("mine")).get("Message") == "Originate successfully queued"
    for client in (originator, watcher):
        result = await client.until("OriginateResponse")
        assert result.get("ActionID") == "mine"
        assert result.get("Response") == "Success"
    originator.close()
    watcher.close()


async def test_upstream_drop_fails_in_flight_actions_and_keeps_the_clients(
    door: DoorRun, simulator: Simulator
) -> None:
    client = await door_client(door.port)
    simulator.answer_pings = False  # the Ping stays in flight
    client.send("Action: Ping", "ActionID: held")
    await until(lambda: door.gateway.ami.pending > 0)
    await simulator.stop()
    failed = await client.until("held")
    assert failed.fields == (
        ("Response", "Error"),
        ("ActionID", "held"),
        ("Message", "Asterisk is not connected"),
    )
    down = await client.until("GatewayAMIDown")
    assert down.get("Privilege") == "system,all"
    client.send("Action: Ping", "ActionID: while-down")
    assert (await client.until("while-down")).get("Message") == "Asterisk is not connected"
    simulator.answer_pings = True
    await simulator.start()
    await client.until("GatewayAMIUp")
    client.send("Action: Ping", "ActionID: back")
    assert (await client.until("back")).get("Ping") == "Pong"
    client.close()


async def test_asterisks_own_shutdown_is_not_passed_on(door: DoorRun, simulator: Simulator) -> None:
    """D12: panoramisk reconnects on any Event: Shutdown; the door's client
    keeps its connection and hears GatewayAMIDown/GatewayAMIUp instead."""
    client = await door_client(door.port)
    await simulator.shutdown(restart=True)
    await client.until("GatewayAMIDown")
    assert not [m for m in client.before if m.name == "Shutdown"]
    await simulator.start()
    await client.until("GatewayAMIUp")
    client.close()


async def test_tls(simulator: Simulator, tmp_path: Path) -> None:
    cert = self_signed(tmp_path)
    door_tls = {"tls": True, "certfile": str(cert.cert), "keyfile": str(cert.key)}
    async with door_gateway(simulator.port, ami_server=door_tls) as running:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", running.port, ssl=ssl.create_default_context(cafile=cert.cert)
        )
        assert await reader.readline() == BANNER
        client = Client(reader, writer)
        client.send("Action: Login", "ActionID: t", "Username: admin", "Secret: admin-secret")
        assert (await client.until("t")).get("Message") == "Authentication accepted"
        client.close()
