"""``python3 -m bench.report RUN.jsonl``: the Markdown tables of bench/README.md.

Reads the JSON lines of one ``python3 -m bench --out RUN.jsonl`` run and
prints the machine, the rtt, fanout and sessions tables, each with its
target and whether it was met.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any, Final

FANOUT_TARGETS: Final = {(100, 10.0): 10.0, (100, 100.0): 100.0, (1000, 100.0): 500.0}
"""p99 targets in ms (issue 6); 5000x10 has a no-loss target only."""
PUSH_TARGETS: Final = {(100, 10.0): 5.0, (1000, 100.0): 100.0}
"""SSE p99 targets in ms (issue 14); 10000x10 and 1000x100 must lose nothing."""
RTT_TARGET_RATIO: Final = 0.5
SESSION_TARGET_KB: Final = 30.0


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def machine(line: dict[str, Any]) -> Iterator[str]:
    yield "| machine | value |"
    yield "|---|---|"
    for key in ("date", "nproc", "cpu", "python", "aiohttp", "loadavg", "uvloop"):
        yield f"| {key} | {line.get(key)} |"


def rtt(lines: list[dict[str, Any]]) -> Iterator[str]:
    yield (
        "| c | gateway req/s | p50 / p99 / max ms | errors | bare req/s | p50 / p99 / max ms"
        " | ratio | gateway CPU µs/req | bare CPU µs/req | target |"
    )
    yield "|---|---|---|---|---|---|---|---|---|---|"
    for line in lines:
        g, b = line["gateway"], line["bare"]
        target = ""
        if line["concurrency"] == 50:
            target = f"ratio ≥ {RTT_TARGET_RATIO}: {_met(line['ratio'] >= RTT_TARGET_RATIO)}"
        if line["concurrency"] == 200:
            target = f"0 errors: {_met(g['errors'] == 0)}"
        yield (
            f"| {line['concurrency']} | {g['req_s']:.0f} | {g['p50_ms']} / {g['p99_ms']} /"
            f" {g['max_ms']} | {g['errors']} | {b['req_s']:.0f} | {b['p50_ms']} /"
            f" {b['p99_ms']} / {b['max_ms']} | {line['ratio']} | {_per(g)} | {_per(b)}"
            f" | {target} |"
        )


def _per(stats: dict[str, Any]) -> str:
    return f"{stats['server_cpu_s'] * 1e6 / max(1, stats['requests']):.0f}"


def fanout(lines: list[dict[str, Any]]) -> Iterator[str]:
    yield (
        "| S×R | delivered / expected | lost | dup | p50 / p99 / max ms | events per poll"
        " | server CPU | CPU µs per event | CPU µs per poll | target |"
    )
    yield "|---|---|---|---|---|---|---|---|---|---|"
    for line in lines:
        key = (line["sessions"], line["rate"])
        clean = line["lost"] == 0 and line["duplicates"] == 0
        if key in FANOUT_TARGETS:
            limit = FANOUT_TARGETS[key]
            target = f"p99 ≤ {limit:g} ms: {_met(clean and line['p99_ms'] <= limit)}"
        else:
            target = f"no loss: {_met(clean)}"
        yield (
            f"| {line['sessions']}×{line['rate']:g} | {line['delivered']} / {line['expected']}"
            f" | {line['lost']} | {line['duplicates']} | {line['p50_ms']} / {line['p99_ms']} /"
            f" {line['max_ms']} | {line['events_per_poll']} | {line['server_cpu_share']:.0%}"
            f" | {line['cpu_us_per_event']} | {line.get('cpu_us_per_poll', '?')} | {target} |"
        )


def sessions(lines: list[dict[str, Any]]) -> Iterator[str]:
    yield (
        "| sessions | held polls | errors | KB per session | KB per held poll"
        " | one event answers all in | target |"
    )
    yield "|---|---|---|---|---|---|---|"
    for line in lines:
        ok = line["errors"] == 0 and line["kb_per_held_poll"] <= SESSION_TARGET_KB
        yield (
            f"| {line['sessions']} | {line['held_polls']} | {line['errors']}"
            f" | {line['kb_per_session']} | {line['kb_per_held_poll']}"
            f" | {line.get('answer_all_s', '?')} s"
            f" | no error, ≤ {SESSION_TARGET_KB:g} KB: {_met(ok)} |"
        )


def push(lines: list[dict[str, Any]]) -> Iterator[str]:
    """Issue 14: each S×R with long polls and with streams, in run order."""
    yield (
        "| S×R | kind | delivered / expected | lost | p50 / p99 / max ms | events per read"
        " | server CPU | CPU µs per event | server ≤ 1 / 5 / 100 ms | load | target |"
    )
    yield "|---|---|---|---|---|---|---|---|---|---|---|"
    for line in lines:
        key = (line["sessions"], line["rate"])
        clean = line["lost"] == 0 and line["duplicates"] == 0
        target = ""
        if line["kind"] == "sse":
            limit = PUSH_TARGETS.get(key)
            parts = (
                [] if limit is None else [f"p99 ≤ {limit:g} ms: {_met(line['p99_ms'] <= limit)}"]
            )
            if key != (100, 10.0):
                parts.append(f"0 lost: {_met(clean)}")
            target = "; ".join(parts)
        within = "/".join(f"{line.get(f'server_within_{ms}ms', 0):.0%}" for ms in ("1", "5", "100"))
        yield (
            f"| {line['sessions']}×{line['rate']:g} | {line['kind']}"
            f" | {line['delivered']} / {line['expected']} | {line['lost']}"
            f" | {line['p50_ms']} / {line['p99_ms']} / {line['max_ms']}"
            f" | {line['events_per_poll']} | {line['server_cpu_share']:.0%}"
            f" | {line['cpu_us_per_event']} | {within} | {line.get('loadavg', ['?'])[0]}"
            f" | {target} |"
        )


def report(lines: list[dict[str, Any]]) -> Iterator[str]:
    by: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by.setdefault(line["scenario"], []).append(line)
    for name, render in (("machine", None), ("rtt", rtt), ("fanout", fanout)):
        if name in by:
            yield from machine(by[name][0]) if render is None else render(by[name])
            yield ""
    if "sessions" in by:
        yield from sessions(by["sessions"])
        yield ""
    if "push" in by:
        yield from push(by["push"])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    with open(args[0]) as file:
        lines = [json.loads(text) for text in file if text.strip()]
    print("\n".join(report(lines)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
