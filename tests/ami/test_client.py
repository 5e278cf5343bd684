"""The AMI client over real loopback sockets: login, keepalive, actions, events, close.

Link drops and reconnects are in ``test_client_link.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools

import pytest

from gateway.ami.client import AmiClient, LinkState
from gateway.ami.message import Message
from gateway.errors import ActionTimeout, InvalidCharacter, NotConnected
from tests.support.fakeami import (
    CHALLENGE,
    SECRET,
    USERNAME,
    FakeAmi,
    Handler,
    Peer,
    Sink,
    hold,
    new_client,
    running,
    settings,
)
from tests.support.harness import until

pytestmark = pytest.mark.usefixtures("no_loop_problems")


async def test_md5_login_sends_md5_of_challenge_and_secret(fake: FakeAmi) -> None:
    sink = Sink()
    client = new_client(settings(fake.port), sink)
    async with running(client):
        await until(lambda: client.ready)
        [challenge] = fake.named("Challenge")
        [login] = fake.named("Login")
    assert challenge.get("AuthType") == "MD5"
    assert login.get("AuthType") == "MD5"
    assert login.get("Username") == USERNAME
    assert login.get("Key") == hashlib.md5((CHALLENGE + SECRET).encode()).hexdigest()
    assert login.get("Secret") is None  # the secret never crosses the wire
    assert client.banner == "Asterisk Call Manager/11.0.0"
    assert sink.links[0] == (True, "")
    assert sink.named("FullyBooted")


async def test_the_link_state_is_named_from_down_to_closed(fake: FakeAmi) -> None:
    client = new_client(settings(fake.port), Sink())
    states = [client.state]
    async with running(client) as task:
        await until(lambda: client.ready)
        states.append(client.state)
        await client.close()  # logs off: the link is closing, no longer ready
        states.append(client.state)
        await task  # run() ends by itself once the link is down
        states.append(client.state)
    assert states == [LinkState.DOWN, LinkState.UP, LinkState.CLOSING, LinkState.CLOSED]
    assert not client.ready
    assert fake.named("Logoff")


async def test_plain_login_when_the_challenge_is_refused(fake: FakeAmi) -> None:
    fake.md5 = False
    client = new_client(settings(fake.port), Sink())
    async with running(client):
        await until(lambda: client.ready)
    [login] = fake.named("Login")
    assert login.get("Secret") == SECRET
    assert login.get("Key") is None
    assert login.get("AuthType") is None


async def test_refused_login_retries_with_backoff_and_never_gets_ready(fake: FakeAmi) -> None:
    fake.secret = "another-secret"
    sink = Sink()
    config = settings(fake.port, reconnect_min=0.04, reconnect_max=1.0)
    client = new_client(config, sink)
    starts: list[float] = []
    loop = asyncio.get_running_loop()

    def challenge(peer: Peer, action: Message) -> None:
        starts.append(loop.time())
        peer.reply(action, "Success", ("Challenge", CHALLENGE))

    fake.on["challenge"] = challenge
    async with running(client):
        await until(lambda: len(fake.named("Login")) >= 4)
        assert not client.ready
        assert client.reconnects >= 3
        assert "Authentication failed" in client.last_error
        with pytest.raises(NotConnected):
            await client.send([("Action", "Ping")])
    assert sink.links == []  # never up, so never reported down either
    # Attempt n waits at least half of min(max, min * 2**n): the gaps grow.
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    for attempt, gap in enumerate(gaps[:3], start=1):
        assert gap >= 0.04 * 2**attempt / 2 - 0.005


async def test_a_ping_goes_out_every_ping_interval(fake: FakeAmi) -> None:
    client = new_client(settings(fake.port, ping_interval=0.05), Sink())
    async with running(client):
        await until(lambda: len(fake.ping_times) >= 4)
        assert client.ready
    times = fake.ping_times
    assert all(b - a >= 0.05 - 0.005 for a, b in itertools.pairwise(times))
    assert client.reconnects == 0
    assert len(fake.peers) == 1


async def test_a_missing_pong_makes_the_client_reconnect(fake: FakeAmi) -> None:
    fake.answer_pings = False
    sink = Sink()
    client = new_client(settings(fake.port, ping_interval=0.05), sink)
    async with running(client):
        await until(lambda: len(fake.peers) >= 2 and client.ready)
        assert client.last_error == "no Pong from Asterisk"
        await until(lambda: fake.peers[0].closed.is_set())  # the dead link was closed
    assert sink.links[:3] == [(True, ""), (False, "no Pong from Asterisk"), (True, "")]


async def test_send_while_not_ready_raises_not_connected_at_once() -> None:
    client = new_client(settings(1), Sink())
    with pytest.raises(NotConnected):
        await client.send([("Action", "Ping")])
    assert client.pending == 0


async def test_an_action_times_out_and_its_late_answer_is_dropped(fake: FakeAmi) -> None:
    held: list[tuple[Peer, Message]] = []
    fake.on["slow"] = lambda peer, action: held.append((peer, action))
    sink = Sink()
    client = new_client(settings(fake.port, action_timeout=0.2), sink)
    async with running(client):
        await until(lambda: client.ready)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(ActionTimeout):
            await client.send([("Action", "Slow"), ("ActionID", "s-1")])
        assert 0.2 - 0.01 <= loop.time() - started < 2.0
        assert client.pending == 0
        peer, action = held[0]
        peer.reply(action, "Success", ("Message", "too late"))
        answer = await client.send([("Action", "Ping"), ("ActionID", "p-1")])
        assert answer[0].get("ActionID") == "p-1"
        assert answer[0].get("Ping") == "Pong"
        assert client.ready
        assert client.reconnects == 0
    assert not [m for m, _ in sink.events if m.get("Message") == "too late"]


async def test_a_cancelled_caller_leaves_nothing_pending(fake: FakeAmi) -> None:
    fake.on["slow"] = hold
    client = new_client(settings(fake.port), Sink())
    async with running(client):
        await until(lambda: client.ready)
        call = asyncio.create_task(client.send([("Action", "Slow")]))
        await until(lambda: fake.named("Slow"))
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert client.pending == 0
        assert client._correlator.pending == 0  # a leak would grow with every cancel


async def test_an_action_that_cannot_be_sent_is_refused_before_the_wire(fake: FakeAmi) -> None:
    client = new_client(settings(fake.port), Sink())
    async with running(client):
        await until(lambda: client.ready)
        sent = len(fake.received)
        with pytest.raises(InvalidCharacter):
            await client.send([("Action", "UserEvent"), ("Header", "a\r\nAction: Originate")])
        await client.send([("Action", "Ping")])
        assert [m.get("Action") for m in fake.received[sent:]] == ["Ping"]
        assert client.pending == 0


async def test_events_reach_on_event_with_the_client_action_id(fake: FakeAmi) -> None:
    def user_event(peer: Peer, action: Message) -> None:
        peer.reply(action, "Success", ("Message", "Event Sent"))
        peer.send(
            ("Event", "UserEvent"),
            ("Privilege", "user,all"),
            ("ActionID", action.get("ActionID") or ""),
            ("UserEvent", "Hello"),
        )

    fake.on["userevent"] = user_event
    sink = Sink()
    client = new_client(settings(fake.port), sink)
    async with running(client):
        await until(lambda: client.ready)
        answer = await client.send(
            [("Action", "UserEvent"), ("UserEvent", "Hello"), ("ActionID", "ue-1")]
        )
        await until(lambda: sink.named("UserEvent"))
        fake.peers[0].send(
            ("Event", "Newchannel"), ("Privilege", "call,all"), ("Channel", "PJSIP/a")
        )
        await until(lambda: sink.named("Newchannel"))
    [wire] = fake.named("UserEvent")
    assert (wire.get("ActionID") or "").endswith("|ue-1")  # the gateway form went out
    assert answer == (
        Message.of(("Response", "Success"), ("ActionID", "ue-1"), ("Message", "Event Sent")),
    )
    [(event, owner)] = [(m, o) for m, o in sink.events if m.name == "UserEvent"]
    assert event.get("ActionID") == "ue-1"
    assert owner is None
    [(event, owner)] = [(m, o) for m, o in sink.events if m.name == "Newchannel"]
    assert event == Message.of(
        ("Event", "Newchannel"), ("Privilege", "call,all"), ("Channel", "PJSIP/a")
    )


async def test_a_message_starting_with_action_is_discarded(fake: FakeAmi) -> None:
    sink = Sink()
    client = new_client(settings(fake.port), sink)
    async with running(client):
        await until(lambda: client.ready)
        peer = fake.peers[0]
        sent = len(fake.received)
        peer.send(("Action", "Originate"), ("Channel", "PJSIP/victim"), ("Exten", "900"))
        peer.send(("Event", "After"), ("Privilege", "user,all"))
        await until(lambda: sink.named("After"))
        assert client.ready
        assert len(fake.received) == sent  # nothing was answered or acted upon
    assert [m.name for m, _ in sink.events] == ["FullyBooted", "After"]
    assert client.reconnects == 0


def originate(outcome: str) -> Handler:
    """A handler: queued, then the OriginateResponse a moment later."""

    def handler(peer: Peer, action: Message) -> None:
        peer.reply(action, "Success", ("Message", "Originate successfully queued"))
        result = (
            ("Event", "OriginateResponse"),
            ("Privilege", "call,all"),
            ("ActionID", action.get("ActionID") or ""),
            ("Response", outcome),
            ("Channel", "Local/100@test"),
            ("Reason", "4" if outcome == "Success" else "0"),
        )
        asyncio.get_running_loop().call_later(0.05, lambda: peer.send(*result))

    return handler


@pytest.mark.parametrize(
    ("outcome", "answer"),
    [
        ("Success", ("Success", "Originate successfully queued")),
        ("Failure", ("Error", "Originate failed")),
    ],
)
async def test_sync_originate_emulation_returns_the_sync_answer(
    fake: FakeAmi, outcome: str, answer: tuple[str, str]
) -> None:
    fake.on["originate"] = originate(outcome)
    sink = Sink()
    client = new_client(settings(fake.port), sink)
    fields = [("Action", "Originate"), ("ActionID", "o-1"), ("Channel", "Local/100@test")]
    async with running(client):
        await until(lambda: client.ready)
        got = await client.send([*fields, ("Async", "true")], owner="s1", sync_originate=True)
        await asyncio.sleep(0.05)  # room for a wrongly broadcast OriginateResponse
    status, text = answer
    assert got == (Message.of(("Response", status), ("ActionID", "o-1"), ("Message", text)),)
    assert sink.named("OriginateResponse") == []  # a real sync Originate emits none


async def test_an_async_originate_result_goes_to_its_owner(fake: FakeAmi) -> None:
    fake.on["originate"] = originate("Success")
    sink = Sink()
    client = new_client(settings(fake.port), sink)
    async with running(client):
        await until(lambda: client.ready)
        got = await client.send([("Action", "Originate"), ("Async", "true")], owner="s1")
        await until(lambda: sink.named("OriginateResponse"))
    assert got[0].get("Message") == "Originate successfully queued"
    [(event, owner)] = [(m, o) for m, o in sink.events if m.name == "OriginateResponse"]
    assert owner == "s1"
    assert event.get("ActionID") is None  # the client sent none


async def test_on_login_runs_after_login_and_can_send(fake: FakeAmi) -> None:
    answers: list[tuple[Message, ...]] = []

    async def on_login(client: AmiClient) -> None:
        answers.append(await client.send([("Action", "ListCommands")]))

    client = new_client(settings(fake.port), Sink(), on_login=on_login)
    async with running(client):
        await until(lambda: answers)
    assert answers[0][0].get("Ping") == "Keepalive command.  (Priv: <none>)"


async def test_a_failing_on_login_hook_does_not_take_the_link_down(fake: FakeAmi) -> None:
    async def on_login(client: AmiClient) -> None:
        raise RuntimeError("a bug in the hook")

    client = new_client(settings(fake.port), Sink(), on_login=on_login)
    async with running(client) as task:
        await until(lambda: client.ready)
        answer = await client.send([("Action", "Ping")])
        assert answer[0].get("Ping") == "Pong"
        assert not task.done()
        assert client.reconnects == 0


async def test_close_logs_off_and_closes_the_socket(fake: FakeAmi) -> None:
    sink = Sink()
    client = new_client(settings(fake.port), sink)
    async with running(client) as task:
        await until(lambda: client.ready)
        await client.close()
        assert not client.ready
        await until(lambda: fake.peers[0].closed.is_set(), timeout=2.0)
        await until(task.done, timeout=2.0)  # closed for good: no reconnect
    assert fake.received[-1].get("Action") == "Logoff"
    assert len(fake.peers) == 1
    assert sink.links == [(True, ""), (False, "AMI client closed")]


async def test_close_while_not_connected_sends_nothing() -> None:
    client = new_client(settings(1), Sink())
    await client.close()
    assert not client.ready


async def test_cancelling_run_propagates_and_closes_the_socket(fake: FakeAmi) -> None:
    sink = Sink()
    client = new_client(settings(fake.port), sink)
    task = asyncio.create_task(client.run())
    await until(lambda: client.ready)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert not client.ready
    await until(lambda: fake.peers[0].closed.is_set(), timeout=2.0)
    assert sink.links == [(True, ""), (False, "AMI client stopped")]


async def test_a_cancel_during_the_unwinding_of_a_drop_is_not_lost(fake: FakeAmi) -> None:
    unwinding, release = asyncio.Event(), asyncio.Event()

    async def on_login(client: AmiClient) -> None:
        try:
            await asyncio.Event().wait()
        finally:  # a slow cleanup keeps the client's TaskGroup unwinding until released
            unwinding.set()
            await release.wait()

    client = new_client(settings(fake.port), Sink(), on_login=on_login)
    task = asyncio.create_task(client.run())
    await until(lambda: client.ready)
    fake.peers[0].close()
    await unwinding.wait()  # the drop was seen; the group waits for the hook
    task.cancel()
    await asyncio.sleep(0)
    release.set()
    async with asyncio.timeout(2.0):  # 3.11's TaskGroup would swallow it: a reconnect
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(fake.peers) == 1


async def test_cancelling_run_while_waiting_to_reconnect_ends_it() -> None:
    fake = FakeAmi()
    port = await fake.start()
    await fake.stop()  # nothing listens: every attempt is refused
    client = new_client(settings(port, reconnect_min=5.0, reconnect_max=5.0), Sink())
    task = asyncio.create_task(client.run())
    await until(lambda: client.reconnects >= 1)
    task.cancel()
    async with asyncio.timeout(2.0):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert client.last_error  # why the connection failed
