"""Issue 11 item 6: the event ring bounded by bytes, waitevent answers by
``reply_bytes``, and the global budget of bytes queued to clients."""

from __future__ import annotations

import asyncio
import gc
import re
import socket
import tracemalloc
from typing import Any

import pytest
from aiohttp import ClientSession
from prometheus_client.parser import text_string_to_metric_families

from bench import ring_bench
from gateway.access.classes import ALL, parse_classes
from gateway.access.identity import Identity
from gateway.ami.codec import Parser
from gateway.ami.message import Message
from gateway.app import GATEWAY
from gateway.config import parse_config
from gateway.core.events import FRAGMENT_KEYS, EventLog, StoredEvent, message_cost
from gateway.core.metrics import Metrics
from gateway.core.replies import Reply
from gateway.core.sendbudget import COPIES, MIN_SHARE, SendBudget
from gateway.core.sessions import Session
from gateway.core.sessionstore import SessionStore
from gateway.core.waitevent import Polls, PollWaiter, wait_for_events
from gateway.errors import ConfigError
from gateway.http.respond import render_reply
from gateway.render import FORMATS, RenderOptions
from gateway.simulator import Simulator
from tests.support.harness import new_app, served, until

KIB = 1024


def wire(fields: int, value: bytes, seq: int = 0) -> bytes:
    head = b"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: big\r\nSeq: %d\r\n" % seq
    return head + b"".join(b"H%03d: %s\r\n" % (n, value) for n in range(fields)) + b"\r\n"


def parsed(data: bytes) -> list[Message]:
    return [m for m in Parser(expect_banner=False).feed(data) if isinstance(m, Message)]


def user_event(size: int, seq: int = 0) -> Message:
    """A parsed UserEvent of about ``size`` wire bytes."""
    (message,) = parsed(wire(max(1, size // 1000), b"v" * 994, seq))
    return message


# --- what an event costs -------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "value"),
    [
        (0, b""),
        (10, b"x" * 20),
        (120, b"x" * 1000),
        (40, "é".encode() * 200),  # latin-1 text: one byte a character
        (40, b"\xff" * 300),  # invalid UTF-8: surrogates, two bytes a character
        (40, b"x" * 300 + "\U0001f600".encode()),  # one emoji: four bytes a character
    ],
)
def test_the_counted_cost_covers_what_tracemalloc_sees(fields: int, value: bytes) -> None:
    data = [wire(fields, value, seq) for seq in range(50)]
    log = EventLog(1000, 1 << 40)
    parser = Parser(expect_banner=False)
    warm = EventLog(1000, 1 << 40)  # a coverage tracer allocates on first runs: not ours
    for message in parsed(b"".join(data[:3])):
        warm.append(message)
        # The call index learns each field name once (at most NAME_CACHE of them):
        # a bounded cost of the log, not of each event.
        log.calls.facts(message)
    del warm
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for chunk in data:
            for item in parser.feed(chunk):
                assert isinstance(item, Message)
                log.append(item)
        gc.collect()
        measured = (tracemalloc.get_traced_memory()[0] - before) / len(data)
    finally:
        tracemalloc.stop()
    counted = log.held_bytes / len(data)
    assert measured <= counted <= measured * 1.1 + 256


def test_a_built_message_is_measured_too() -> None:
    message = Message.of(("Event", "GatewayAMIDown"), ("Reason", "ü" * 100))
    assert message_cost(message) > 2 * 100


# --- the ring --------------------------------------------------------------


def test_the_byte_bound_evicts_the_oldest_and_since_still_slices() -> None:
    size = message_cost(user_event(10_000))
    log = EventLog(8, 5 * size + size // 2)
    for seq in range(1, 21):
        log.append(user_event(10_000, seq))
        assert log.held_bytes <= 5 * size + size // 2
        assert log.held == min(seq, 5)
    assert (log.first_seq, log.last_seq) == (16, 20)
    lost, events = log.since(10)
    assert lost == 5
    assert [e.seq for e in events] == [16, 17, 18, 19, 20]
    assert log.evicted_by_bytes == 15
    assert log.evicted_by_count == 0


def test_the_count_bound_still_applies() -> None:
    log = EventLog(3)
    for _ in range(7):
        log.append(Message.of(("Event", "Tiny")))
    assert (log.first_seq, log.held, log.evicted_by_count) == (5, 3, 4)
    assert [e.seq for e in log.since(0)[1]] == [5, 6, 7]


def test_an_event_larger_than_the_ring_stays_alone() -> None:
    log = EventLog(100, 1000)
    log.append(Message.of(("Event", "Small")))
    log.append(user_event(20_000))
    assert log.held == 1
    assert log.since(0)[1][0].name == "userevent"


def test_cached_renderings_count_and_are_capped() -> None:
    log = EventLog(100, 1 << 30)
    event = log.append(user_event(5_000))
    base = log.held_bytes
    body = render_reply(FORMATS["json"], Reply((), (event,)), RenderOptions())
    assert log.held_bytes > base + len(body) // 2
    for n in range(20):  # mxml's key carries the client's ajaxdest
        render_reply(FORMATS["mxml"], Reply((), (event,)), RenderOptions(ajaxdest=f"d{n}"))
    assert len(event.fragments) == FRAGMENT_KEYS
    assert log.held_bytes == event.held_bytes()


def test_a_rendering_cached_after_eviction_is_not_counted() -> None:
    log = EventLog(1)
    old = log.append(Message.of(("Event", "Old")))
    log.append(Message.of(("Event", "New")))
    held = log.held_bytes
    assert old.text.startswith("Event: Old")
    assert log.held_bytes == held


def test_renderings_make_room_and_the_count_stays_exact() -> None:
    log = EventLog(1000, 200_000)
    for seq in range(60):
        event = log.append(user_event(8_000, seq))
        for name in ("rawman", "json", "manager"):
            render_reply(FORMATS[name], Reply((), (event,)), RenderOptions())
        assert log.held_bytes <= 200_000
        held = log.since(log.floor)[1]
        assert log.held_bytes == sum(e.held_bytes() for e in held)


# --- reply_bytes -----------------------------------------------------------


def new_polls(reply_bytes: int = 25_000, send_budget: SendBudget | None = None) -> Polls:
    """Polls whose answers carry at most ``reply_bytes`` of events."""
    log, sessions = EventLog(1000, 1 << 30), SessionStore()
    budget = send_budget or SendBudget()
    return Polls(
        log, sessions, Metrics(), waitevent_max=5.0, reply_bytes=reply_bytes, send_budget=budget
    )


def admin(polls: Polls) -> Session:
    session = polls.sessions.create("a", 0.0, polls.log.last_seq)
    session.log_in(Identity("admin", ALL, ALL))
    return session


def seqs(events: tuple[StoredEvent, ...]) -> list[int]:
    return [int(e.message.get("Seq") or 0) for e in events]


async def test_an_answer_carries_reply_bytes_and_the_next_poll_the_rest() -> None:
    polls = new_polls()
    session = admin(polls)
    for seq in range(10):
        polls.log.append(user_event(10_000, seq))
    got: list[int] = []
    for expected in ([0, 1], [2, 3], [4, 5], [6, 7], [8, 9]):
        reply = await wait_for_events(polls, session, [("Timeout", "0")])
        assert seqs(reply.events) == expected
        got += expected
    assert got == list(range(10))
    assert session.cursor == polls.log.last_seq


async def test_in_cursor_mode_the_cursor_is_the_last_event_delivered() -> None:
    polls = new_polls()
    session = admin(polls)
    start = polls.log.last_seq
    for seq in range(3):
        polls.log.append(user_event(10_000, seq))
    polls.log.append(Message.of(("Event", "Unwanted"), ("Privilege", "agent,all")))
    session.log_in(Identity("admin", ALL & ~parse_classes("agent"), ALL))
    reply = await wait_for_events(polls, session, [("Cursor", str(start)), ("Timeout", "0")])
    assert seqs(reply.events) == [0, 1]
    assert reply.tail[0].get("Cursor") == str(reply.events[-1].seq)
    reply = await wait_for_events(polls, session, [("Cursor", ""), ("Timeout", "0")])
    assert seqs(reply.events) == [2]
    # not cut: the cursor passes the event this session may not read
    assert reply.tail[0].get("Cursor") == str(polls.log.last_seq)


async def test_the_first_event_goes_even_when_larger_than_reply_bytes() -> None:
    polls = new_polls(reply_bytes=4096)
    session = admin(polls)
    polls.log.append(user_event(20_000, 7))
    polls.log.append(user_event(20_000, 8))
    reply = await wait_for_events(polls, session, [("Timeout", "0")])
    assert seqs(reply.events) == [7]


# --- the send budget ---------------------------------------------------------


def test_the_budget_grants_shrinks_then_refuses() -> None:
    budget = SendBudget(4 * MIN_SHARE * COPIES)
    assert budget.allowance(MIN_SHARE) == MIN_SHARE
    share = budget.take(3 * MIN_SHARE)
    assert budget.allowance(2 * MIN_SHARE) == MIN_SHARE  # shrunk to the room left
    assert budget.shrunk == 1
    other = budget.take(MIN_SHARE)
    assert budget.allowance(MIN_SHARE) == 0
    budget.give(other)
    budget.give(share)
    assert budget.used == 0
    assert budget.allowance(100 * MIN_SHARE) == 100 * MIN_SHARE  # alone, any size goes
    assert budget.peak == 4 * MIN_SHARE * COPIES


async def test_room_given_back_wakes_the_waiters_in_order() -> None:
    budget = SendBudget(2 * MIN_SHARE * COPIES)
    share = budget.take(2 * MIN_SHARE)
    first, second, third = PollWaiter(), PollWaiter(), PollWaiter()
    for waiter in (first, second, third):
        budget.wait(waiter)
    budget.forget(second)
    budget.give(share)  # room for two minimal answers
    assert first.future.done()
    assert third.future.done()
    assert not second.future.done()
    assert budget.waiting == 0
    assert budget.waited == 3


async def test_a_poll_waits_for_room_and_then_answers() -> None:
    polls = new_polls(send_budget=SendBudget(MIN_SHARE * COPIES))
    session = admin(polls)
    share = polls.send_budget.take(MIN_SHARE)  # another answer being written
    polls.log.append(user_event(5_000, 1))
    poll = asyncio.create_task(wait_for_events(polls, session, [("Timeout", "5")]))
    await until(lambda: polls.send_budget.waiting == 1)
    assert not poll.done()
    polls.send_budget.give(share)
    async with asyncio.timeout(2):
        reply = await poll
    assert seqs(reply.events) == [1]


async def test_a_poll_without_room_answers_empty_at_its_timeout_and_loses_nothing() -> None:
    polls = new_polls(send_budget=SendBudget(MIN_SHARE * COPIES))
    session = admin(polls)
    cursor = session.cursor
    share = polls.send_budget.take(MIN_SHARE)
    polls.log.append(user_event(5_000, 1))
    reply = await wait_for_events(polls, session, [("Timeout", "0.05")])
    assert reply.events == ()
    assert session.cursor == cursor
    assert polls.send_budget.waiting == 0  # forgotten when the poll ended
    polls.send_budget.give(share)
    reply = await wait_for_events(polls, session, [("Timeout", "0")])
    assert seqs(reply.events) == [1]


# --- over HTTP ---------------------------------------------------------------


async def test_answers_are_cut_at_reply_bytes_over_http(simulator: Simulator) -> None:
    app = new_app(simulator.port, events={"reply_bytes": 31_000})
    async with served(app) as base, ClientSession() as client:
        log = app[GATEWAY].log
        session = await _login(client, base)
        await _poll(client, base, session)  # the login's own events
        for seq in range(7):
            log.append(user_event(10_000, seq))
        bodies = [await _poll(client, base, session) for _ in range(3)]
        assert [re.findall(r"Seq: (\d+)", body) for body in bodies] == [
            ["0", "1", "2"],
            ["3", "4", "5"],
            ["6"],
        ]


async def _login(client: ClientSession, base: str) -> str:
    params = {"action": "login", "username": "admin", "secret": "admin-secret"}
    async with client.get(f"{base}/asterisk/rawman", params=params) as response:
        return response.cookies["mansession_id"].value


async def _poll(client: ClientSession, base: str, session: str, timeout: str = "0") -> str:
    params = {"action": "waitevent", "timeout": timeout, "mansession_id": session}
    async with client.get(f"{base}/asterisk/rawman", params=params) as response:
        assert response.status == 200
        return await response.text()


async def test_a_client_that_does_not_read_cannot_starve_one_that_does(
    simulator: Simulator,
) -> None:
    """A non-reading client's answer fills the send budget; a reading
    client's poll waits for room; send_timeout closes the non-reader, its
    share comes back and the reader gets its events."""
    app = new_app(
        simulator.port,
        events={"reply_bytes": 6 << 20},
        limits={"queued_bytes": 12 << 20, "send_timeout": 1.0},
    )
    async with served(app) as base, ClientSession() as client:
        gateway = app[GATEWAY]
        budget = gateway.send_budget
        port = int(base.rsplit(":", 1)[1])
        stalling, reading = [await _login(client, base) for _ in range(2)]
        for session in (stalling, reading):
            await _poll(client, base, session)
        for seq in range(110):  # ~6.6 MB: more than the kernel takes at once
            gateway.log.append(user_event(60_000, seq))
        stalled = _stall(port, stalling)
        try:
            await until(lambda: budget.used > (12 << 20) - 2 * MIN_SHARE, timeout=5)
            poll = asyncio.create_task(_poll(client, base, reading, timeout="8"))
            await until(lambda: budget.waiting == 1, timeout=5)
            samples = await scrape_url(client, base)
            assert samples["ajam_send_budget_waits_total"] == 1
            assert samples["ajam_send_budget_waiting_polls"] == 1
            assert samples["ajam_send_queued_bytes"] <= 12 << 20
            async with asyncio.timeout(10):
                body = await poll  # after send_timeout closed the other one
            assert "Seq: 0\r\n" in body
            await until(lambda: budget.used == 0, timeout=5)
        finally:
            stalled.close()


def _stall(port: int, session: str) -> socket.socket:
    """A client that asks for its backlog and never reads the answer."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        b"GET /asterisk/rawman?action=waitevent&timeout=0&mansession_id=%s HTTP/1.1\r\n"
        b"Host: x\r\n\r\n" % session.encode()
    )
    return sock


async def scrape_url(client: ClientSession, base: str) -> dict[str, float]:
    async with client.get(f"{base}/metrics") as response:
        text = await response.text()
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels
    }


# --- configuration -----------------------------------------------------------

BASE: dict[str, Any] = {"ami": {"username": "gw", "secret": "s"}}


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ({"events": {"ring_bytes": 1000}}, "[events] ring_bytes: must be between 1048576"),
        ({"events": {"reply_bytes": 0}}, "[events] reply_bytes: must be between 4096"),
        ({"limits": {"queued_bytes": "lots"}}, "[limits] queued_bytes: must be an integer"),
        ({"limits": {"send_timeout": 0}}, "[limits] send_timeout: must be above 0"),
        (
            {"events": {"reply_bytes": 4 << 20}, "limits": {"queued_bytes": 6 << 20}},
            "[limits] queued_bytes: must be at least 2 x [events] reply_bytes (8388608)",
        ),
    ],
)
def test_budget_keys_are_checked(tables: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({**BASE, **tables}, {})
    assert str(error.value).startswith(message)


def test_budget_keys_reach_the_gateway(simulator: Simulator) -> None:
    app = new_app(
        simulator.port,
        events={"ring_bytes": 2 << 20, "reply_bytes": 8192},
        limits={"queued_bytes": 1 << 20},
    )
    gateway = app[GATEWAY]
    assert gateway.log.max_bytes == 2 << 20
    assert gateway.polls.reply_bytes == 8192
    assert gateway.send_budget.limit == 1 << 20


async def test_the_ring_and_budget_metrics_are_exposed(simulator: Simulator) -> None:
    app = new_app(simulator.port)
    async with served(app) as base, ClientSession() as client:
        session = await _login(client, base)
        await _poll(client, base, session)
        samples = await scrape_url(client, base)
    assert samples["ajam_event_ring_events"] >= 1
    assert samples["ajam_event_ring_bytes"] > 0
    assert samples["ajam_event_ring_max_bytes"] == 64 << 20
    assert samples["ajam_send_queued_max_bytes"] == 128 << 20
    assert samples["ajam_send_queued_peak_bytes"] > 0
    assert samples["ajam_send_queued_bytes"] == 0


def test_the_ring_benchmark_runs_on_this_tree() -> None:
    timings = ring_bench.inner()
    assert set(timings) == {"append", "since", "pending"}
    assert all(value > 0 for value in timings.values())
