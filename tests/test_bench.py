"""The benchmark suite cannot rot: ``python3 -m bench --quick`` runs in CI.

No timing assertions: only that every scenario produced a well-formed JSON
line, with no event lost or duplicated and no error.  Without ``wrk`` the rtt
scenario runs on its Python driver.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from typing import Any

from bench import workerloop
from bench.amiresponder import answer, user_event
from bench.harness import server
from bench.load import run_python, wrk_script
from bench.stats import hist_percentile_ms, percentile


def by_scenario(lines: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["scenario"] == name]


def test_quick_run_reports_the_machine_first(quick_lines: list[dict[str, Any]]) -> None:
    first = quick_lines[0]
    assert first["scenario"] == "machine"
    assert first["nproc"] >= 1
    assert first["python"].count(".") == 2
    assert first["aiohttp"]


def test_quick_rtt_compares_gateway_and_bare(quick_lines: list[dict[str, Any]]) -> None:
    lines = by_scenario(quick_lines, "rtt")
    assert [line["concurrency"] for line in lines] == [1, 10]
    for line in lines:
        for side in ("gateway", "bare"):
            stats = line[side]
            assert stats["requests"] > 0
            assert stats["errors"] == 0, stats
            assert 0 < stats["p50_ms"] <= stats["p99_ms"] <= stats["max_ms"]
            assert stats["server_rss_kb"] > 0
        assert line["ratio"] > 0


def test_quick_fanout_loses_and_duplicates_nothing(quick_lines: list[dict[str, Any]]) -> None:
    lines = by_scenario(quick_lines, "fanout")
    assert [(line["sessions"], line["rate"]) for line in lines] == [(20, 10.0), (50, 50.0)]
    for line in lines:
        assert line["expected"] == line["sessions"] * line["rate"] * line["seconds"]
        assert line["delivered"] == line["expected"]
        assert (line["lost"], line["duplicates"], line["errors"]) == (0, 0, 0), line
        assert 0 <= line["p50_ms"] <= line["p99_ms"]
        assert line["max_ms"] > 0
        assert line["cpu_us_per_event"] is not None


def test_quick_push_streams_and_polls_lose_nothing(quick_lines: list[dict[str, Any]]) -> None:
    lines = by_scenario(quick_lines, "push")
    assert [(line["kind"], line["sessions"]) for line in lines] == [
        ("poll", 20),
        ("sse", 20),
        ("ws", 20),
    ]
    for line in lines:
        assert line["delivered"] == line["expected"] > 0
        assert (line["lost"], line["duplicates"], line["errors"]) == (0, 0, 0), line
        assert 0 <= line["p50_ms"] <= line["p99_ms"]
        assert 0 <= line["server_within_1ms"] <= line["server_within_100ms"] <= 1


def test_quick_sessions_hold_every_poll(quick_lines: list[dict[str, Any]]) -> None:
    (line,) = by_scenario(quick_lines, "sessions")
    assert line["logged_in"] == line["sessions"] == 200
    assert line["answered"] == 200
    assert line["errors"] == 0, line
    assert line["held_polls"] >= 200
    assert line["kb_per_held_poll"] > 0


def test_quick_ami_door_fanout_loses_and_duplicates_nothing(
    quick_lines: list[dict[str, Any]],
) -> None:
    (line,) = by_scenario(quick_lines, "ami_fanout")
    assert (line["sessions"], line["rate"]) == (20, 50.0)
    assert line["delivered"] == line["expected"] == 20 * 50 * line["seconds"]
    assert (line["lost"], line["duplicates"], line["errors"]) == (0, 0, 0), line
    assert 0 <= line["p50_ms"] <= line["p99_ms"]


def test_quick_ami_stall_measures_both_runs(quick_lines: list[dict[str, Any]]) -> None:
    (line,) = by_scenario(quick_lines, "ami_stall")
    for run in ("control", "stalled"):
        assert line[run]["delivered"] == line[run]["emitted"] > 0, line
        assert line[run]["rss_peak_kb"] >= line[run]["rss_base_kb"] > 0
    assert line["extra_growth_kb"] == (
        line["stalled"]["rss_growth_kb"] - line["control"]["rss_growth_kb"]
    )


def test_responder_answers_like_asterisk() -> None:
    pong = answer({"action": "Ping", "actionid": "a.1"})
    assert pong.startswith(b"Response: Success\r\nActionID: a.1\r\nPing: Pong\r\nTimestamp: ")
    assert pong.endswith(b"\r\n\r\n")
    bye = answer({"action": "logoff"})
    assert bye == b"Response: Goodbye\r\nMessage: Thanks for all the fish.\r\n\r\n"
    event = user_event("Bench", Seq="7")
    assert event == b"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: Bench\r\nSeq: 7\r\n\r\n"


def test_wrk_script_rotates_over_the_pool() -> None:
    script = wrk_script(['mansession_id="a"', 'mansession_id="b"'], "/asterisk/rawman?x=1")
    assert 'cookies = {"mansession_id=\\"a\\"", "mansession_id=\\"b\\""}' in script
    assert 'path = "/asterisk/rawman?x=1"' in script
    assert "cookies[(i % #cookies) + 1]" in script


def test_percentiles() -> None:
    hist: Counter[int] = Counter({0: 50, 99: 49, 1000: 1})
    assert hist_percentile_ms(hist, 0.5) == 0.01
    assert hist_percentile_ms(hist, 0.99) == 1.0
    assert hist_percentile_ms(hist, 1.0) == 10.01
    assert hist_percentile_ms(Counter(), 0.5) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([], 0.5) is None


async def test_python_driver_runs_where_wrk_is_missing() -> None:
    """CI machines without wrk still drive rtt: the fallback must not rot."""
    async with server(["bare"]) as bare:
        stats = await run_python(bare.target, "action=ping", ['mansession_id="x"'], 2, 0.3)
    assert stats["driver"] == "python"
    assert stats["requests"] > 0
    assert stats["errors"] == 0
    assert stats["p50_ms"] <= stats["max_ms"]


def test_a_worker_says_a_long_line_whole() -> None:
    """A ``result`` line is often over 64 KiB: unbuffered, to a pipe, on any loop."""
    code = "from bench.pollers import _say; _say('result ' + 'x' * 300_000)"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", workerloop.ENV: "0"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=env, check=True, timeout=60
    )
    assert done.stdout == b"result " + b"x" * 300_000 + b"\n"


def test_workers_run_on_asyncio_unless_asked() -> None:
    async def which() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert not workerloop.wanted()
    assert workerloop.run(which()).startswith("asyncio")
