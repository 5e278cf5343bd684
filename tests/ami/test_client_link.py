"""The AMI client when the link drops: pending actions fail at once, nothing is
sent twice, reconnects back off with jitter; also against the simulator."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.ami.client import AmiClient, backoff_delay
from gateway.ami.correlator import Broadcast
from gateway.ami.message import Message
from gateway.errors import NotConnected
from gateway.simulator import Simulator
from tests.support.fakeami import (
    FakeAmi,
    Peer,
    Sink,
    new_client,
    running,
    settings,
)
from tests.support.harness import until

NOT_CONNECTED = "Asterisk is not connected"

pytestmark = pytest.mark.usefixtures("no_loop_problems")


def slow(action_id: str) -> list[tuple[str, str]]:
    return [("Action", "Slow"), ("ActionID", action_id)]


@pytest.mark.parametrize("drop", [Peer.close, Peer.abort])
async def test_a_drop_fails_every_pending_action_at_once(fake: FakeAmi, drop: object) -> None:
    sink = Sink()
    client = new_client(settings(fake.port, action_timeout=30.0), sink)
    async with running(client):
        await until(lambda: client.ready)
        calls = [asyncio.create_task(client.send(slow(f"s-{n}"))) for n in range(3)]
        await until(lambda: len(fake.named("Slow")) == 3)
        assert client.pending == 3
        drop(fake.peers[0])  # type: ignore[operator]
        async with asyncio.timeout(2.0):  # not at the 30 s action timeout
            answers = await asyncio.gather(*calls)
        for n, answer in enumerate(answers):
            expected = (("Response", "Error"), ("ActionID", f"s-{n}"), ("Message", NOT_CONNECTED))
            assert answer == (Message(expected),)
        assert client.pending == 0
        await until(lambda: client.ready and len(fake.peers) == 2)
        assert [up for up, _ in sink.links] == [True, False, True]
    assert sink.links[1][1]  # a reason is given
    assert sink.links[-1] == (False, "AMI client stopped")


async def test_no_action_is_ever_sent_twice(fake: FakeAmi) -> None:
    client = new_client(settings(fake.port, ping_interval=0.05), Sink())
    async with running(client):
        await until(lambda: client.ready)
        calls = [asyncio.create_task(client.send(slow(f"before-{n}"))) for n in range(2)]
        await until(lambda: len(fake.named("Slow")) == 2)
        fake.peers[0].close()
        await asyncio.gather(*calls)
        await until(lambda: client.ready and len(fake.peers) == 2)
        await client.send([("Action", "Ping"), ("ActionID", "after")])
        await until(lambda: len(fake.peers[1].received) >= 5)  # a few keepalives too
    ids = Counter(m.get("ActionID") for m in fake.received)
    assert ids.most_common(1)[0][1] == 1  # every ActionID went out exactly once
    after = [m.get("Action") for m in fake.peers[1].received]
    assert "Slow" not in after  # nothing from before the drop was replayed
    assert len(fake.named("Slow")) == 2


async def test_send_during_the_outage_raises_not_connected(fake: FakeAmi) -> None:
    client = new_client(settings(fake.port, reconnect_min=5.0, reconnect_max=5.0), Sink())
    async with running(client):
        await until(lambda: client.ready)
        fake.peers[0].close()
        await until(lambda: not client.ready)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(NotConnected):
            await client.send([("Action", "Ping")])
        assert loop.time() - started < 1.0
        assert client.pending == 0


async def test_the_client_comes_back_when_the_server_does(fake: FakeAmi) -> None:
    sink = Sink()
    client = new_client(settings(fake.port), sink)
    async with running(client):
        await until(lambda: client.ready)
        await fake.stop()
        await until(lambda: client.reconnects >= 3)  # refused a few times meanwhile
        assert not client.ready
        assert client.last_error
        await fake.start()  # the same port again
        await until(lambda: client.ready)
        assert [up for up, _ in sink.links] == [True, False, True]
    assert len(fake.named("Login")) == 2


@given(
    attempt=st.integers(min_value=0, max_value=10_000),
    low=st.floats(min_value=0.001, max_value=60.0),
    spread=st.floats(min_value=1.0, max_value=1000.0),
)
def test_backoff_delay_is_capped_exponential_with_jitter(
    attempt: int, low: float, spread: float
) -> None:
    high = low * spread
    ceiling = min(high, low * 2 ** min(attempt, 30))
    delay = backoff_delay(attempt, low, high)
    assert ceiling / 2 <= delay <= ceiling
    assert delay <= high
    assert delay >= low / 2  # never a busy loop


def test_backoff_delay_grows_then_stays_at_the_cap() -> None:
    ceilings = [max(backoff_delay(n, 0.5, 30.0) for _ in range(200)) for n in range(10)]
    assert ceilings[0] <= 0.5
    assert 0.9 < ceilings[1] <= 1.0
    assert 3.5 < ceilings[3] <= 4.0
    assert ceilings[9] <= 30.0
    assert len({backoff_delay(4, 0.5, 30.0) for _ in range(20)}) > 1  # jitter


async def test_against_the_simulator_md5_login_and_on_login(simulator: Simulator) -> None:
    learnt: list[Message] = []

    async def on_login(client: AmiClient) -> None:
        learnt.extend(await client.send([("Action", "ListCommands")]))

    config = settings(simulator.port, username="admin", secret="admin-secret")
    client = new_client(config, Sink(), on_login=on_login)
    async with running(client):
        await until(lambda: learnt)
        answer = await client.send([("Action", "Ping"), ("ActionID", "p-1")])
    assert answer[0].get("ActionID") == "p-1"
    assert answer[0].get("Ping") == "Pong"
    logins = [m for m in simulator.received if m.get("Action") == "Login"]
    assert logins[0].get("AuthType") == "MD5"
    assert learnt[0].get("Ping")  # ListCommands lists Ping


async def test_against_the_simulator_a_missing_pong_reconnects(simulator: Simulator) -> None:
    simulator.answer_pings = False
    sink = Sink()
    config = settings(simulator.port, username="admin", secret="admin-secret", ping_interval=0.05)
    client = new_client(config, sink)
    async with running(client):
        await simulator.wait_for_logins(2)
        await until(lambda: client.ready)
    assert (False, "no Pong from Asterisk") in sink.links
    pings = [m.get("ActionID") for m in simulator.received if m.get("Action") == "Ping"]
    assert len(pings) == len(set(pings))


async def test_a_failing_event_sink_does_not_take_the_link_down(fake: FakeAmi) -> None:
    calls: list[str] = []

    def broken(event: Broadcast) -> None:
        calls.append(event.message.name)
        raise RuntimeError("bug in the app")

    client = AmiClient(settings(fake.port), on_event=broken, on_link=Sink().on_link)
    async with running(client):
        await until(lambda: client.ready)
        fake.peers[0].send(("Event", "UserEvent"), ("Privilege", "user,all"))
        await until(lambda: "UserEvent" in calls)
        answer = await client.send([("Action", "Ping")])
        assert answer[0].name == "Success"
        assert client.ready
        assert client.reconnects == 0


async def test_actions_of_one_loop_iteration_leave_in_one_write(fake: FakeAmi) -> None:
    """Coalesced under load: one send() for what many requests forwarded at once."""
    client = new_client(settings(fake.port), Sink())
    async with running(client):
        await until(lambda: client.ready)
        reads = len(fake.actions_per_read)
        ids = [f"burst-{n}" for n in range(20)]
        answers = await asyncio.gather(
            *(client.send([("Action", "Ping"), ("ActionID", i)]) for i in ids)
        )
        assert [a[0].get("ActionID") for a in answers] == ids
        assert [(m.get("ActionID") or "").split("|")[-1] for m in fake.named("Ping")] == ids
        assert fake.actions_per_read[reads:] == [20]


async def test_an_action_written_after_a_reconnect_is_sent_once(fake: FakeAmi) -> None:
    client = new_client(settings(fake.port, reconnect_min=0.01, reconnect_max=0.02), Sink())
    async with running(client):
        await until(lambda: client.ready)
        fake.peers[0].close()
        await until(lambda: len(fake.peers) == 2 and client.ready)
        answer = await client.send([("Action", "Ping"), ("ActionID", "after")])
        assert answer[0].get("Ping") == "Pong"
        assert [m for m in fake.named("Ping") if "after" in (m.get("ActionID") or "")] != []
        assert len([m for m in fake.received if "after" in (m.get("ActionID") or "")]) == 1
