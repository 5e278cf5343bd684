"""``python3 -m bench``: run the benchmark scenarios, one JSON line each.

``--quick`` is the seconds-long version that CI runs (tests/test_bench.py):
the same code paths, small numbers, no timing claims.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Final

from bench import workerloop
from bench.amidoor import Stall, ami_fanout, ami_stall
from bench.harness import Options
from bench.load import have_wrk
from bench.procstat import raise_nofile
from bench.scenarios import Fanout, fanout, rtt, sessions


@dataclass(frozen=True, slots=True)
class Plan:
    rtt: tuple[int, ...]
    rtt_seconds: float
    fanout: tuple[tuple[int, float], ...]
    fanout_seconds: float
    sessions: tuple[int, ...]
    ami: tuple[tuple[int, float], ...]
    """AMI door clients x events per second (issue 13: 500 x 100)."""
    ami_stall: Stall
    push: tuple[tuple[int, float], ...] = ()
    """Issue 14: each S x R run with long polls, then with SSE streams (interleaved)."""
    push_kinds: tuple[str, ...] = ("poll", "sse")


FULL: Final = Plan(
    rtt=(1, 10, 50, 200),
    rtt_seconds=10.0,
    fanout=((100, 10.0), (100, 100.0), (1000, 100.0), (5000, 10.0)),
    fanout_seconds=10.0,
    sessions=(1000, 10000),
    push=((100, 10.0), (1000, 100.0), (10000, 10.0)),
    ami=((500, 100.0),),
    ami_stall=Stall(rate=2000.0, seconds=15.0, padding=1000),
)
QUICK: Final = Plan(
    rtt=(1, 10),
    rtt_seconds=1.0,
    fanout=((20, 10.0), (50, 50.0)),
    fanout_seconds=2.0,
    sessions=(200,),
    push=((20, 10.0),),
    push_kinds=("poll", "sse", "ws"),
    ami=((20, 50.0),),
    ami_stall=Stall(rate=500.0, seconds=2.0, padding=1000),
)
SCENARIOS: Final = ("rtt", "fanout", "sessions", "push", "ami", "ami_stall")


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as file:
        for line in file:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "scenario": "machine",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "aiohttp": metadata.version("aiohttp"),
        "loadavg": _loadavg(),
        "wrk": have_wrk(),
    }


def _loadavg() -> list[str]:
    """Other processes on the machine skew every number: say how busy it was."""
    with open("/proc/loadavg") as file:
        return file.read().split()[:3]


def _emit(line: dict[str, Any], out: Any) -> None:
    text = json.dumps(line, separators=(",", ":"))
    print(text, flush=True)
    if out is not None:
        out.write(text + "\n")
        out.flush()


def _pairs(text: str) -> tuple[tuple[int, float], ...]:
    pairs = []
    for item in text.split(","):
        sessions_text, rate = item.lower().split("x")
        pairs.append((int(sessions_text), float(rate)))
    return tuple(pairs)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="seconds, not minutes (CI)")
    parser.add_argument(
        "--only", default=",".join(SCENARIOS), help="rtt,fanout,sessions,push,ami,ami_stall"
    )
    parser.add_argument("--ami", help="AMI door CLIENTSxRATE list, e.g. 500x100")
    parser.add_argument("--rtt", help="concurrency levels, e.g. 1,10,50,200")
    parser.add_argument("--fanout", help="SESSIONSxRATE list, e.g. 100x10,1000x100")
    parser.add_argument("--sessions", help="session counts, e.g. 1000,10000")
    parser.add_argument("--push", help="push SESSIONSxRATE list, e.g. 100x10,1000x100")
    parser.add_argument("--push-kinds", help="push runs to interleave: poll,sse,ws")
    parser.add_argument("--rounds", type=int, default=1, help="push: repeat each pair N times")
    parser.add_argument("--seconds", type=float, help="duration of each load or event stream")
    parser.add_argument("--uvloop", action="store_true", help="run the gateway on uvloop")
    parser.add_argument(
        "--client-uvloop", action="store_true", help="run the load generators on uvloop"
    )
    parser.add_argument("--profile", metavar="DIR", help="pyinstrument profile per gateway")
    parser.add_argument("--out", help="also append the JSON lines to this file")
    return parser.parse_args(argv)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(","))


def _plan(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else FULL
    if args.rtt:
        plan = dataclasses.replace(plan, rtt=_ints(args.rtt))
    if args.fanout:
        plan = dataclasses.replace(plan, fanout=_pairs(args.fanout))
    if args.sessions:
        plan = dataclasses.replace(plan, sessions=_ints(args.sessions))
    if args.push:
        plan = dataclasses.replace(plan, push=_pairs(args.push))
    if args.push_kinds:
        plan = dataclasses.replace(plan, push_kinds=tuple(args.push_kinds.split(",")))
    if args.ami:
        plan = dataclasses.replace(plan, ami=_pairs(args.ami))
    if args.seconds:
        plan = dataclasses.replace(plan, rtt_seconds=args.seconds, fanout_seconds=args.seconds)
    return plan


async def run(args: argparse.Namespace, out: Any) -> None:
    plan = _plan(args)
    only = set(args.only.split(","))
    options = Options(uvloop=args.uvloop, profile_dir=args.profile)
    if args.client_uvloop:  # the worker processes inherit it (bench.workerloop)
        os.environ[workerloop.ENV] = "1"
    machine_line = {**machine(), "uvloop": args.uvloop, "client_uvloop": workerloop.wanted()}
    _emit({**machine_line, "quick": args.quick}, out)
    if "rtt" in only:
        for line in await rtt(options, list(plan.rtt), plan.rtt_seconds):
            _emit(line, out)
    if "fanout" in only:
        for count, rate in plan.fanout:
            _emit(await fanout(options, Fanout(count, rate, plan.fanout_seconds)), out)
    if "sessions" in only:
        for count in plan.sessions:
            _emit(await sessions(options, count), out)
    if "push" in only:
        for count, rate in plan.push:
            for _ in range(args.rounds):  # each kind in turn: the machine's load hits all alike
                for kind in plan.push_kinds:
                    run_ = Fanout(count, rate, plan.fanout_seconds, kind, "push")
                    _emit({**await fanout(options, run_), "loadavg": _loadavg()}, out)
    if "ami" in only:
        for count, rate in plan.ami:
            run_ = Fanout(count, rate, plan.fanout_seconds, "ami", "ami_fanout")
            _emit(await ami_fanout(options, run_), out)
    if "ami_stall" in only:
        _emit(await ami_stall(options, plan.ami_stall), out)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    raise_nofile()
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(args.out, "a")) if args.out else None
        asyncio.run(run(args, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
