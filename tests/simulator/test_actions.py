"""Session actions and perform (which runs any action), over real sockets."""

from __future__ import annotations

import hashlib

import pytest

from gateway.access.classes import ALL, CLASS_BITS
from gateway.simulator import Simulator
from gateway.simulator.actions import mask_of
from tests.support.simclient import connect


@pytest.mark.parametrize(
    ("text", "mask"),
    [
        ("on", ALL),
        ("YES", ALL),
        ("", ALL),
        ("off", 0),
        ("0", 0),
        ("2", 2),
        ("call,user", CLASS_BITS["call"] | CLASS_BITS["user"]),
        ("call,nosuch", CLASS_BITS["call"]),
    ],
)
def test_event_mask(text: str, mask: int) -> None:
    assert mask_of(text) == mask


async def test_missing_action_and_actions_before_login(sim: Simulator) -> None:
    client = await connect(sim, None)
    client.send("ActionID: m1", "Foo: bar")
    assert (await client.until("m1")).get("Message") == "Missing action in request"
    client.send("Action:", "ActionID: m2")
    assert (await client.until("m2")).get("Message") == "Missing action in request"
    client.send("Action: CoreShowChannels", "ActionID: early")
    assert (await client.until("early")).get("Message") == "Permission denied"
    client.close()


async def test_logoff_before_login_says_goodbye(sim: Simulator) -> None:
    client = await connect(sim, None)
    client.send("Action: Logoff", "ActionID: bye")
    assert (await client.until("bye")).name == "Goodbye"
    assert await client.closed()


async def test_failed_login_waits_then_hangs_up(sim: Simulator) -> None:
    client = await connect(sim, None)
    client.send("Action: Login", "ActionID: bad", "Username: nobody", "Secret: x")
    assert (await client.until("bad")).get("Message") == "Authentication failed"
    assert await client.closed()
    assert sim.logins == 0


async def test_md5_login_needs_a_challenge_and_the_right_key(sim: Simulator) -> None:
    client = await connect(sim, None)
    client.send("Action: Challenge", "ActionID: c0", "AuthType: plain")
    assert (await client.until("c0")).get("Message") == "Must specify AuthType"
    client.send("Action: Challenge", "ActionID: c1", "AuthType: md5")
    challenge = (await client.until("c1")).get("Challenge") or ""
    assert challenge.isdigit()
    client.send("Action: Challenge", "ActionID: c2", "AuthType: MD5")
    assert (await client.until("c2")).get("Challenge") == challenge  # kept for the session
    key = hashlib.md5(f"{challenge}reader-secret".encode()).hexdigest().upper()
    client.send("Action: Login", "ActionID: l1", "AuthType: MD5", "Username: READER", f"Key: {key}")
    assert (await client.until("l1")).get("Message") == "Authentication accepted"
    client.send("Action: Login", "ActionID: l2", "Username: reader", "Secret: reader-secret")
    assert (await client.until("l2")).get("Message") == "Already authenticated"
    client.close()


async def test_md5_login_with_a_wrong_key_fails(sim: Simulator) -> None:
    client = await connect(sim, None)
    client.send("Action: Login", "ActionID: l1", "AuthType: MD5", "Username: admin", "Key: 00")
    assert (await client.until("l1")).get("Message") == "Authentication failed"
    assert await client.closed()


async def test_login_with_events_off_gets_no_fullybooted(sim: Simulator) -> None:
    client = await connect(sim, None)
    client.send(
        "Action: Login", "ActionID: l1", "Username: admin", "Secret: admin-secret", "Events: off"
    )
    await client.until("l1")
    client.send("Action: Ping", "ActionID: p1")
    await client.until("p1")
    assert client.before == []
    client.close()


async def test_unknown_action_reaches_security_readers_only(sim: Simulator) -> None:
    admin = await connect(sim, "admin")
    reader = await connect(sim, "reader")
    await admin.until("SuccessfulAuth")
    await admin.until("SuccessfulAuth")  # the reader's login
    reader.send("Action: NoSuchThing", "ActionID: u1")
    answer = await reader.until("u1")
    assert answer.get("Message") == (
        "Invalid/unknown command: NoSuchThing. Use Action: ListCommands to show available commands."
    )
    bad = await admin.until("RequestBadFormat")
    assert (bad.get("AccountID"), bad.get("RequestType")) == ("reader", "Action: NoSuchThing")
    reader.send("Action: Ping", "ActionID: p1")
    await reader.until("p1")
    assert reader.before == []
    admin.close()
    reader.close()


async def test_actions_the_simulator_does_not_implement(sim: Simulator) -> None:
    client = await connect(sim)
    client.send("Action: CoreSettings", "ActionID: cs")
    assert (await client.until("cs")).get(
        "Message"
    ) == "The simulator does not implement CoreSettings"
    client.close()


async def test_listcommands_shows_what_the_user_may_run(sim: Simulator) -> None:
    client = await connect(sim, "reader")
    client.send("Action: ListCommands", "ActionID: lc")
    names = [name for name, _ in (await client.until("lc")).fields[2:]]
    assert "Ping" in names
    assert "Originate" not in names
    assert len(names) == 21  # the actions that need no class
    client.close()


async def test_commands(sim: Simulator) -> None:
    client = await connect(sim)
    client.send("Action: Command", "ActionID: c1")
    assert (await client.until("c1")).get("Message") == "No command provided"
    client.send("Action: Command", "ActionID: c2", "Command: core  show   UPTIME")
    assert ((await client.until("c2")).get("Output") or "").startswith("System uptime:")
    client.send("Action: Command", "ActionID: c3", "Command: core show channels count")
    assert (await client.until("c3")).get_all("Output") == ["0 active channels", "0 active calls"]
    client.send("Action: Command", "ActionID: c4", "Command: nonsense")
    assert (await client.until("c4")).get("Output") == (
        "No such command 'nonsense' (type 'core show help ' for other possible commands)"
    )
    client.close()


async def test_userevent_passes_lines_as_written(sim: Simulator) -> None:
    client = await connect(sim)
    await client.until("SuccessfulAuth")
    client.writer.write(
        b"Action: UserEvent\r\nActionID: u1\r\nUserEvent: Mine\r\nlower:  two spaces\r\n\r\n"
    )
    await client.until("u1")
    client.send("Action: UserEvent", "ActionID: u2")
    assert (await client.until("u2")).get("Message") == "Missing UserEvent"
    raw = b"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: Mine\r\nActionID: u1\r\n"
    assert raw + b"lower:  two spaces\r\n\r\n" in b"".join(m.to_wire() for m in [*client.before])
    client.close()


async def test_filter_errors(sim: Simulator) -> None:
    client = await connect(sim)
    client.send("Action: Filter", "ActionID: f1", "Operation: Remove", "Filter: x")
    assert (await client.until("f1")).get("Message") == "Unknown operation"
    client.send("Action: Filter", "ActionID: f2", "Operation: Add", "Filter: (")
    assert ((await client.until("f2")).get("Message") or "").startswith("Filter did not")
    client.close()
