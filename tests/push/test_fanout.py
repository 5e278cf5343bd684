"""The fan-out driven directly, over real loopback sockets, with a manual clock."""

from __future__ import annotations

import asyncio
import contextlib

from gateway.access.classes import ALL
from gateway.access.identity import Identity, OriginateResponses
from gateway.ami.message import Message
from gateway.core.sessions import Session
from gateway.push.stream import CloseReason, Stream, StreamKind, StreamState
from tests.support.fanoutrig import Parts, connection, read_until


async def test_one_batch_is_one_write_per_stream_and_one_render_per_event() -> None:
    parts = Parts()
    async with connection() as (sse_side, sse_reader), connection() as (ws_side, ws_reader):
        sse = Stream(StreamKind.SSE, parts.session(), "a", sse_side, chunked=True)
        ws = Stream(StreamKind.WS, parts.session(), "a", ws_side, names=frozenset({"two"}))
        for stream in (sse, ws):
            parts.fanout.open(stream)
            parts.fanout.start(stream, parts.log.place(parts.log.last_seq))
        parts.emit("One")
        parts.emit("Two")
        parts.fanout.deliver(parts.log.since(0)[1])
        one, two = parts.log.since(0)[1]
        body = one.fragments["sse"] + two.fragments["sse"]
        chunk = b"%x\r\n" % len(body) + body + b"\r\n"
        async with asyncio.timeout(5):
            assert await sse_reader.readexactly(len(chunk)) == chunk
            assert await ws_reader.readexactly(len(two.fragments["ws"])) == two.fragments["ws"]
        assert "ws" not in one.fragments  # never needed: not rendered
        assert parts.fanout.counts.kinds[StreamKind.SSE].events == 2
        assert parts.fanout.counts.kinds[StreamKind.WS].events == 1


async def test_no_room_in_the_send_budget_pauses_a_stream_that_holds_bytes() -> None:
    parts = Parts(buffer_bytes=1 << 20)
    async with connection() as (side, reader):
        stream = Stream(StreamKind.WS, parts.session(), "a", side)
        parts.fanout.open(stream)
        parts.fanout.start(stream, parts.log.place(parts.log.last_seq))
        side.pause_reading()
        reader._transport.pause_reading()  # type: ignore[attr-defined]  # the client reads nothing
        while stream.queued == 0:  # fill the kernel's buffers
            parts.emit("Big", "x" * 60_000)
            parts.fanout.deliver([])
        parts.budget.limit = parts.budget.used  # no room left at all
        cursor = stream.cursor
        parts.emit("Held")
        parts.fanout.deliver([])
        assert stream.state is StreamState.LAGGING
        assert stream.cursor == cursor  # not written: it goes out once there is room
        assert parts.fanout.lagging_count == 1


async def test_a_reply_waits_until_its_client_reads_and_a_gone_client_is_reaped() -> None:
    parts = Parts(buffer_bytes=4096)
    async with connection() as (side, reader):
        stream = Stream(StreamKind.WS, parts.session(), "a", side)
        parts.fanout.open(stream)
        reader._transport.pause_reading()  # type: ignore[attr-defined]
        while parts.fanout.send(stream, b"r" * 30_000):
            pass
        waiting = asyncio.ensure_future(parts.fanout.drained(stream))
        await asyncio.sleep(0)
        assert not waiting.done()
        reader._transport.resume_reading()  # type: ignore[attr-defined]
        async with asyncio.timeout(5):
            while not waiting.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(reader.read(1 << 16), 0.05)
                parts.fanout.tick()
        await parts.fanout.drained(stream)  # read down: at once
        side.close()
        parts.clock.now += 2  # the reaper's second
        parts.fanout.tick()
        assert await stream.done is CloseReason.CLIENT
        assert parts.fanout.send(stream, b"late") is False
        parts.fanout.end(stream, CloseReason.SHUTDOWN)  # a second end changes nothing
        assert parts.fanout.counts.kinds[StreamKind.WS].closed == {CloseReason.CLIENT: 1}
        assert parts.budget.used == 0


async def test_a_pending_stream_gets_no_events_and_restart_waits_for_its_start() -> None:
    parts = Parts()
    async with connection() as (side, reader):
        session = parts.sessions.create("a", 0.0, 0)
        stream = Stream(StreamKind.WS, session, "a", side)
        parts.fanout.open(stream)
        parts.emit("Early")
        parts.fanout.restart(stream, parts.log.place(0))
        parts.fanout.deliver([])
        assert stream.written == 0
        assert session.held  # a socket before its Login keeps its session
        session.log_in(Identity("admin", ALL, ALL))
        parts.fanout.start(stream, parts.log.place(0))
        async with asyncio.timeout(5):
            frame = await reader.read(4096)
        assert b'"Event":"Early"' in frame
        parts.sessions.remove(session)
        assert await stream.done is CloseReason.SESSION


class Counting:
    """A user's eventfilter that passes everything and counts its questions."""

    def __init__(self) -> None:
        self.calls = 0

    def matches(self, text: str, message: Message) -> bool:
        self.calls += 1
        return True


async def live_streams(
    stack: contextlib.AsyncExitStack, parts: Parts, sessions: list[Session], kind: StreamKind
) -> list[asyncio.StreamReader]:
    """One live stream per session, from the log's end; their clients' readers."""
    readers = []
    for session in sessions:
        side, reader = await stack.enter_async_context(connection())
        stream = Stream(kind, session, "a", side)
        parts.fanout.open(stream)
        parts.fanout.start(stream, parts.log.place(parts.log.last_seq))
        readers.append(reader)
    return readers


async def test_streams_with_the_same_rules_share_one_look_but_not_an_owned_event() -> None:
    parts = Parts()
    ceiling = Counting()
    sessions = []
    for _ in range(3):
        session = parts.sessions.create("a", 0.0, parts.log.last_seq)
        session.log_in(Identity("u", ALL, ALL, ceiling, OriginateResponses.OWNER))
        sessions.append(session)
    sessions[2].set_filter(Counting())  # its own filter: a view of its own
    async with contextlib.AsyncExitStack() as stack:
        readers = await live_streams(stack, parts, sessions, StreamKind.WS)
        parts.emit("Shared")
        parts.fanout.deliver([])
        assert ceiling.calls == 2  # one look for the two alike, one for the third
        parts.log.append(Message.of(("Event", "Mine"), ("Privilege", "user,all")), sessions[0].key)
        parts.emit("After")
        parts.fanout.deliver([])
        got = [await read_until(reader, b'"Event":"After"') for reader in readers]
        assert [b'"Event":"Mine"' in data for data in got] == [True, False, False]
        assert all(b'"Event":"After"' in data for data in got)


async def test_an_async_result_reaches_each_stream_by_its_sessions_rule() -> None:
    """Issue 13, item 5: an OriginateResponse goes to every stream whose
    session may read it, only its owner's for a user with
    ``originate_response = "owner"``; a cancelled sync Originate's late
    result (``private``) stays its owner's alone."""
    parts = Parts()
    rules = (OriginateResponses.ALL, OriginateResponses.ALL, OriginateResponses.OWNER)
    sessions = []
    for rule in rules:
        session = parts.sessions.create("a", 0.0, parts.log.last_seq)
        session.log_in(Identity("u", ALL, ALL, originate_response=rule))
        sessions.append(session)
    async with contextlib.AsyncExitStack() as stack:
        readers = await live_streams(stack, parts, sessions, StreamKind.SSE)
        result = Message.of(("Event", "OriginateResponse"), ("Privilege", "call,all"))
        parts.log.append(result, sessions[1].key)
        late = Message.of(("Event", "Late"), ("Privilege", "call,all"))
        parts.log.append(late, sessions[0].key, private=True)
        parts.emit("After")
        parts.fanout.deliver([])
        got = [await read_until(reader, b'"Event":"After"') for reader in readers]
        assert [b'"Event":"OriginateResponse"' in data for data in got] == [True, True, False]
        assert [b'"Event":"Late"' in data for data in got] == [True, False, False]


async def test_a_write_that_leaves_more_than_the_bound_pauses_the_stream() -> None:
    parts = Parts(buffer_bytes=4096)
    async with connection() as (side, reader):
        session = parts.session()
        stream = Stream(StreamKind.SSE, session, "a", side)
        assert "sse" in repr(stream)
        assert "pending" in repr(stream)
        parts.fanout.open(stream)
        parts.fanout.start(stream, parts.log.place(parts.log.last_seq))
        reader._transport.pause_reading()  # type: ignore[attr-defined]
        while stream.state is StreamState.LIVE:
            parts.emit("Big", "x" * 60_000)  # each goes: the stream held nothing before
            parts.fanout.deliver([])
        assert stream.queued > 4096
        assert stream.cursor == parts.log.last_seq  # written: it was under its bound before
        assert parts.fanout.counts.lagged == 1


async def test_a_session_not_logged_in_has_no_view() -> None:
    parts = Parts()
    async with connection() as (side, _):
        stream = Stream(StreamKind.WS, parts.sessions.create("a", 0.0, 0), "a", side)
        assert stream.view() is None
