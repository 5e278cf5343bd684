"""Call, channel, variable and queue actions, over real sockets."""

from __future__ import annotations

import pytest

from gateway.ami.message import Message
from gateway.simulator import Simulator
from gateway.simulator.callactions import parse_callerid, parse_variables
from tests.support.simclient import Client


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ('"Иван Петров" <100>', ("Иван Петров", "100")),
        ("Bob <200>", ("Bob", "200")),
        ("<300>", ("", "300")),
        ("+4930123", ("", "+4930123")),
        ("Just A Name", ("Just A Name", "")),
        ("", ("", "")),
    ],
)
def test_parse_callerid(text: str, parsed: tuple[str, str]) -> None:
    assert parse_callerid(text) == parsed


def test_parse_variables_splits_commas_and_the_first_equals() -> None:
    action = Message.of(
        ("Action", "Originate"),
        ("Variable", "A=1"),
        ("variable", "C=3,D=4"),
        ("Variable", "E=x=y"),
        ("Variable", "=nameless,junk"),
    )
    assert parse_variables(action) == (("A", "1"), ("C", "3"), ("D", "4"), ("E", "x=y"))


async def _originate(client: Client, action_id: str, *extra: str) -> Message:
    client.send("Action: Originate", f"ActionID: {action_id}", *extra)
    return await client.until(action_id)


async def test_originate_refusals(client: Client) -> None:
    assert (await _originate(client, "o1")).get("Message") == "Channel not specified"
    assert (await _originate(client, "o2", "Channel: nothing")).get("Message") == "Invalid channel"
    bad_timeout = await _originate(client, "o3", "Channel: Local/100@test", "Timeout: soon")
    assert bad_timeout.get("Message") == "Invalid timeout"


async def test_sync_originate_to_nowhere_fails(client: Client) -> None:
    answer = await _originate(client, "o1", "Channel: Local/999@test", "Application: Wait")
    assert (answer.name, answer.get("Message")) == ("Error", "Originate failed")


async def test_sync_originate_gives_up_after_its_timeout(client: Client, sim: Simulator) -> None:
    answer = await _originate(client, "o1", "Channel: Local/100@test", "Timeout: 0")
    assert answer.get("Message") == "Originate failed"


async def test_hangup_by_name(client: Client, sim: Simulator) -> None:
    await _originate(client, "o1", "Channel: Local/600@test", "Application: Wait", "Data: 2000")
    one = next(name for name in (c.name for c in sim.pbx.channels.values()) if name.endswith(";1"))
    client.send("Action: Hangup", "ActionID: h0")
    assert (await client.until("h0")).get("Message") == "No channel specified"
    client.send("Action: Hangup", "ActionID: h1", "Channel: Local/600@test-99999999;1")
    assert (await client.until("h1")).get("Message") == "No such channel"
    client.send("Action: Hangup", "ActionID: h2", f"Channel: {one.lower()}")
    assert (await client.until("h2")).get("Message") == "Channel Hungup"
    hangup = await client.until("Hangup")
    assert hangup.get("Channel") == one


async def test_hangup_by_regex_with_no_match(client: Client) -> None:
    client.send("Action: Hangup", "ActionID: h1", "Channel: /^SIP/")
    start = await client.until("h1")
    assert start.get("Message") == "Channels hung up will follow"
    done = await client.until("ChannelsHungupListComplete")
    assert done.get("ListItems") == "0"
    client.send("Action: Hangup", "ActionID: h2", "Channel: /(/")
    assert (await client.until("h2")).get("Message") == "Invalid regex"


async def test_status_of_one_channel_with_variables(client: Client, sim: Simulator) -> None:
    await _originate(
        client, "o1", "Channel: Local/600@test", "Application: Wait", "Data: 2000", "Variable: K=v"
    )
    two = next(c.name for c in sim.pbx.channels.values() if c.name.endswith(";2"))
    client.send("Action: Status", "ActionID: s1", "Channel: nowhere")
    assert (await client.until("s1")).get("Message") == "No such channel"
    client.send("Action: Status", "ActionID: s2", f"Channel: {two}", "Variables: K,MISSING")
    await client.until("s2")
    item = await client.until("Status")
    assert (item.get("Privilege"), item.get("Channel")) == ("Call", two)
    assert item.get_all("Variable") == ["K=v", "MISSING="]
    assert item.fields[-1] == ("ActionID", "s2")
    done = await client.until("StatusComplete")
    assert (done.get("ListItems"), done.get("Items")) == ("1", "1")


async def test_getvar_and_setvar_refusals(client: Client) -> None:
    client.send("Action: Getvar", "ActionID: g1")
    assert (await client.until("g1")).get("Message") == "No variable specified"
    client.send("Action: Setvar", "ActionID: s1", "Value: x")
    assert (await client.until("s1")).get("Message") == "No variable specified"
    client.send("Action: Setvar", "ActionID: s2", "Channel: none;1", "Variable: X")
    assert (await client.until("s2")).get("Message") == "No such channel"


async def test_setvar_then_getvar_on_a_channel(client: Client, sim: Simulator) -> None:
    await _originate(client, "o1", "Channel: Local/600@test", "Application: Wait", "Data: 2000")
    one = next(c.name for c in sim.pbx.channels.values() if c.name.endswith(";1"))
    client.send("Action: Setvar", "ActionID: s1", f"Channel: {one}", "Variable: V", "Value: 7")
    await client.until("s1")
    varset = await client.until("VarSet")
    assert (varset.get("Channel"), varset.get("Value")) == (one, "7")
    client.send("Action: Getvar", "ActionID: g1", f"Channel: {one}", "Variable: V")
    assert (await client.until("g1")).get("Value") == "7"


async def test_queue_actions_for_another_queue_list_nothing(client: Client) -> None:
    client.send("Action: QueueStatus", "ActionID: q1", "Queue: other")
    await client.until("q1")
    assert (await client.until("QueueStatusComplete")).get("ListItems") == "0"
    client.send("Action: QueueSummary", "ActionID: q2", "Queue: other")
    await client.until("q2")
    assert (await client.until("QueueSummaryComplete")).get("ListItems") == "0"


async def test_coreshowchannels_lists_live_channels(client: Client, sim: Simulator) -> None:
    await _originate(client, "o1", "Channel: Local/600@test", "Application: Wait", "Data: 2000")
    client.send("Action: CoreShowChannels", "ActionID: c1")
    await client.until("c1")
    first = await client.until("CoreShowChannel")
    assert first.fields[1] == ("ActionID", "c1")
    assert (first.get("Duration") or "").count(":") == 2
    assert (await client.until("CoreShowChannelsComplete")).get("ListItems") == "2"
