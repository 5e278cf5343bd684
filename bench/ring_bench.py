"""The event ring's hot paths, two trees interleaved in one run (issue 11 item 6).

    git archive main | (mkdir -p /tmp/main-tree && tar -x -C /tmp/main-tree)
    python3 -m bench.ring_bench --trees /tmp/main-tree,. --rounds 5

Each round runs every tree once, in its own process with ``PYTHONPATH`` set to
the tree, so both import their own ``gateway``.  Measured per tree, median
over rounds:

* ``append``: µs per ``EventLog.append`` of a parsed 14-line event (~450 wire
  bytes, an ordinary Newchannel), ring full and evicting;
* ``since``: µs per ``since(cursor, 10_000)`` slice of 10,000 events;
* ``pending``: µs per ``Session.pending`` of 1,000 wanted events (with
  ``max_bytes`` = 1 MiB where the tree has it, as a poll calls it).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

EVENT = (
    b"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/1001-00000001\r\n"
    b"ChannelState: 4\r\nChannelStateDesc: Ring\r\nCallerIDNum: 1001\r\n"
    b"CallerIDName: Alice Example\r\nConnectedLineNum: <unknown>\r\n"
    b"ConnectedLineName: <unknown>\r\nLanguage: en\r\nAccountCode: \r\n"
    b"Context: from-internal\r\nExten: 1002\r\nPriority: 1\r\n"
    b"Uniqueid: 1795770484.101\r\nLinkedid: 1795770484.101\r\n\r\n"
)


def _best(run: Callable[[], float], repeat: int = 5) -> float:
    return min(run() for _ in range(repeat))


def _module(*names: str) -> Any:
    """The first of ``names`` the tree has: issue 12 moved the modules into packages."""
    for name in names[:-1]:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return importlib.import_module(names[-1])


def inner() -> dict[str, float]:
    """Run inside one tree: the three timings in µs."""
    from gateway.ami.codec import Parser

    ALL = _module("gateway.access.classes", "gateway.classes").ALL
    EventLog = _module("gateway.core.events", "gateway.events").EventLog
    SessionStore = _module(
        "gateway.core.sessionstore", "gateway.core.sessions", "gateway.sessions"
    ).SessionStore
    Identity = _module("gateway.access.identity", "gateway.sessions").Identity

    messages = [
        m for m in Parser(expect_banner=False).feed(EVENT * 20_000) if not isinstance(m, bytes)
    ]
    log = EventLog(10_000)

    def append() -> float:
        started = time.perf_counter()
        for message in messages:
            log.append(message)
        return (time.perf_counter() - started) / len(messages) * 1e6

    def since() -> float:
        cursor = log.first_seq - 1
        started = time.perf_counter()
        for _ in range(200):
            log.since(cursor, 10_000)
        return (time.perf_counter() - started) / 200 * 1e6

    session = SessionStore().create("a", 0.0, 0)
    if hasattr(session, "set_event_mask"):  # a Session that changes through its methods
        session.log_in(Identity("bench", ALL, ALL))
        session.set_event_mask(ALL)
    else:
        session.identity = Identity("bench", ALL, ALL)
        session.send_events = ALL
    cut = "max_bytes" in inspect.signature(session.pending).parameters

    def pending() -> float:
        after = log.last_seq - 1_000
        started = time.perf_counter()
        for _ in range(200):
            if cut:
                session.pending(log, 10_000, after, 1 << 20)
            else:
                session.pending(log, 10_000, after)
        return (time.perf_counter() - started) / 200 * 1e6

    return {"append": _best(append), "since": _best(since), "pending": _best(pending)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trees", default=".", help="comma-separated tree paths")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        print(json.dumps(inner()))
        return
    trees = args.trees.split(",")
    results: dict[str, list[dict[str, float]]] = {tree: [] for tree in trees}
    for _ in range(args.rounds):
        for tree in trees:
            env = {**os.environ, "PYTHONPATH": os.path.abspath(tree)}
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--inner"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[tree].append(json.loads(out))
    print("| tree | append µs/event | since µs/10,000 | pending µs/1,000 |")
    print("|---|---|---|---|")
    for tree, runs in results.items():
        cells = [
            " / ".join(f"{run[key]:.2f}" for run in runs)
            + f" (median **{statistics.median(run[key] for run in runs):.2f}**)"
            for key in ("append", "since", "pending")
        ]
        print(f"| {tree} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
