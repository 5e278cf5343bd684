"""Issue 11, item 1: a hostile filter regex must not stall the gateway.

Asterisk compiles ``Action: Filter`` and ``eventfilter`` patterns with
regcomp(REG_EXTENDED) and runs them on every event.  Python's backtracking
``re`` took exponential time on ``(.*.*)*Q``: one write=system user froze
the event loop for everyone.  Each attack runs in a child process (or against
a gateway process), so that the unfixed code fails the test instead of
hanging it.  The 5 s bound on a logged-in Ping while a hostile filter
meets a flow of events is in test_under_attack.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.support.procs import ROOT

ATTACKS = ("^.*.*.*.*Q", "(.*.*)*Q", "(.*){1,32}(.*){1,32}Q")
"""Patterns with exponential (or high polynomial) backtracking, none matching."""

MATCHES = 200
"""Matches timed per pattern, each over a 1,000-byte event."""
BOUND = 5.0
"""Seconds for all of them: generous for a loaded machine; backtracking never ends."""


def _in_child(code: str, timeout: float = 15.0) -> str:
    """Run ``code`` in a fresh interpreter on this checkout; its stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"matching did not finish in {timeout} s: the loop would stall")
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("pattern", ATTACKS)
@pytest.mark.parametrize("how", ["filter_action", "eventfilter_legacy", "eventfilter_regex"])
def test_matching_a_hostile_filter_takes_bounded_time(pattern: str, how: str) -> None:
    out = _in_child(
        f"""
        import time
        from gateway.ami.message import Message
        from gateway.access.users import UserConfig
        from gateway.access.eventfilter import parse_filter_action

        pattern = {pattern!r}
        how = {how!r}
        if how == "filter_action":
            test = parse_filter_action(None, pattern).applies
        elif how == "eventfilter_legacy":
            test = UserConfig(name="u", eventfilter=(pattern,)).event_filter.matches
        else:
            spec = "eventfilter(name(UserEvent),header(Body),method(regex)) = " + pattern
            test = UserConfig(name="u", eventfilter=(spec,)).event_filter.matches
        body = "x" * 1000
        message = Message.of(("Event", "UserEvent"), ("Body", body))
        text = "Event: UserEvent\\r\\nBody: " + body + "\\r\\n"
        began = time.perf_counter()
        hits = sum(1 for _ in range({MATCHES}) if test(text, message))
        print(hits, time.perf_counter() - began)
        """
    )
    hits, elapsed = out.split()
    assert hits == "0"  # no event carries a Q
    assert float(elapsed) < BOUND
