"""Issue 11's bound, attack by attack: while each runs 5 s, a logged-in
user's Ping p99 stays under 100 ms and ``/healthz`` answers
(``tests.support.hostile.stays_fast``).

* item 1: a Filter regex with exponential backtracking, met by a flow of
  events (a backtracking matcher froze the loop for everyone);
* item 2: one address opening sockets that say nothing or trickle a head;
* item 7: anonymous requests in a flood (each stored a session);
* item 8: 1 MiB forms of ``a&a&...`` before authentication.

The item's own tests, which say what the attack did and that it is refused,
are beside this module; the RSS bound under item 6's flood is
test_memory.py.  Every client is on loopback, the attacker on another
address (``ATTACKER``) than the user who pings, and in a process of its own
(``tests/support/attacker.py``, where each attack is written): what the
Ping measures is the gateway, not the attacker's CPU beside it.
"""

from __future__ import annotations

from gateway.core.pending import DEFAULT_PER_ADDRESS
from gateway.simulator import Simulator
from tests.support.hostile import gateway_at, serving, stays_fast

TOO_LARGE = "Response: Error\r\nMessage: Request too large for AMI\r\n\r\n"


async def test_a_hostile_filter_meeting_a_flow_of_events(simulator: Simulator) -> None:
    """Item 1: the attacker's own session filters with patterns that make a
    backtracking matcher run for ever, and polls, while events flow."""
    async with serving(simulator) as port:
        tally = await stays_fast(port, "hostile_filter")
    assert tally.counts["sent"] > 200
    assert tally.counts["polled"] > 0


async def test_sockets_that_say_nothing_or_trickle_a_head(simulator: Simulator) -> None:
    """Item 2: one address keeps opening sockets; half never send a byte,
    half send part of a head and never more."""
    async with serving(simulator, max_connections=200, header_timeout=1.0) as port:
        tally = await stays_fast(port, "silent_sockets")
    assert tally.counts["opened"] > 200


async def test_a_flood_of_anonymous_requests(simulator: Simulator) -> None:
    """Item 7: two addresses (as in the issue: 160 GETs from each filled the
    table) ask without a cookie, on two connections each, a request every 5 ms
    (some 800 a second, 4,000 in all): actions they may not run, waits,
    challenges.  Nothing they do fills the table."""
    async with serving(simulator) as port:
        tally = await stays_fast(port, "anonymous_flood")
        sessions = gateway_at(port).sessions
        assert tally.answers.total() > 1000  # more than three times the 320
        assert all(body.startswith("Response: ") for body in tally.answers)
        assert len(sessions) <= 2 * DEFAULT_PER_ADDRESS + 1  # their challenges, the pinger


async def test_forms_of_a_mebibyte_of_empty_fields(simulator: Simulator) -> None:
    """Item 8: three anonymous clients post 1 MiB of ``a&a&...`` in a loop
    (before: a logged-in Ping's median was 1.9 s, bench/form_bench.py)."""
    async with serving(simulator) as port:
        tally = await stays_fast(port, "mebibyte_forms")
    assert tally.answers.total() > 30  # the flood itself was answered, not held up
    assert all(body.endswith(TOO_LARGE) for body in tally.answers)
