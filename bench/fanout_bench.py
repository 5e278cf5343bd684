"""The push fan-out's pass, in one process, without a client's noise.

    python3 -m bench.fanout_bench --streams 1000 --events 200

N SSE streams on real loopback sockets (the clients' ends are read by a
thread that only drains them), one event per pass, as ``Fanout.deliver``
runs in the gateway.  Prints one JSON line: µs of CPU per pass and per
stream written, with the sessions' rules shared (every stream alike) and
not (each session with a filter of its own, so each looks alone).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import threading
import time
from typing import Any

from gateway.access.classes import ALL
from gateway.access.identity import Identity
from gateway.ami.message import Message
from gateway.core.events import EventLog
from gateway.core.sendbudget import SendBudget
from gateway.core.sessionstore import SessionStore
from gateway.push.fanout import Fanout
from gateway.push.settings import PushSettings
from gateway.push.stream import Stream, StreamKind

EVENT = Message.of(
    ("Event", "Newchannel"),
    ("Privilege", "call,all"),
    ("Channel", "PJSIP/1001-00000001"),
    ("CallerIDNum", "1001"),
    ("CallerIDName", "Alice Example"),
    ("Context", "from-internal"),
    ("Exten", "1002"),
    ("Uniqueid", "1795770484.101"),
)


class PassAll:
    def matches(self, text: str, message: Message) -> bool:
        return True


def drain(sockets: list[socket.socket], stop: threading.Event) -> None:
    import selectors

    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    while not stop.is_set():
        for key, _ in selector.select(0.05):
            with contextlib.suppress(BlockingIOError):
                key.fileobj.recv(1 << 16)  # type: ignore[union-attr]


async def run(streams: int, events: int, shared: bool) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    log, sessions = EventLog(100_000), SessionStore(max_sessions=10**7)
    fanout = Fanout(log=log, sessions=sessions, budget=SendBudget(), settings=PushSettings())
    clients = []
    for _ in range(streams):
        ours, theirs = socket.socketpair()
        transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
        session = sessions.create("a", 0.0, log.last_seq)
        session.log_in(Identity("u", ALL, ALL))
        if not shared:
            session.set_filter(PassAll())
        stream = Stream(StreamKind.SSE, session, "a", transport, chunked=True)
        fanout.open(stream)
        fanout.start(stream, log.place(log.last_seq))
        clients.append(theirs)
    stop = threading.Event()
    reader = threading.Thread(target=drain, args=(clients, stop), daemon=True)
    reader.start()
    spent = 0.0
    for _ in range(events):
        batch = [log.append(EVENT)]
        started = time.thread_time()
        fanout.deliver(batch)
        spent += time.thread_time() - started
        await asyncio.sleep(0)
    stop.set()
    reader.join()
    return {
        "streams": streams,
        "events": events,
        "shared": shared,
        "us_per_pass": round(spent * 1e6 / events, 1),
        "us_per_stream": round(spent * 1e6 / events / streams, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.fanout_bench")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    for shared in (True, False):
        print(json.dumps(asyncio.run(run(args.streams, args.events, shared))), flush=True)


if __name__ == "__main__":
    main()
