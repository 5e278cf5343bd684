"""Every manager capture replayed against the gateway and the simulator.

The same replay as rawman's (tests/test_replay_rawman.py), with the
manager body's fields masked instead of rawman lines; the deviations are the
ones every format shares (tests/replay_checks.py), rendered as manager.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pytest

from tests.fixturedata import ajam_cases, read_http_fixture
from tests.replay_checks import Expectations, Replays, format_deviations

SCALE: Final = 0.25
NODE: Final = "t1"
CASES: Final = tuple(name for name in ajam_cases() if name.startswith("manager_"))

EVENT_ORDER: Final[Mapping[str, tuple[int, ...]]] = {
    "manager_originate_async": (4,),
    "manager_header_with_dash": (4,),
    "manager_utf8_values": (6,),
    "manager_waitevent_with_events": (3, 5),
    "manager_query_repeated_variable": (4,),
}
"""The same races of Asterisk's own event order as in rawman's captures; in
this capture a DeviceStateChange also overtook OriginateResponse."""
ITEM_ORDER: Final[Mapping[str, tuple[int, ...]]] = {"manager_coreshowchannels_two": (3, 4)}
"""CoreShowChannels items and Hangup's ChannelHungup list, ;2 before ;1 here."""

EXPECT: Final = Expectations("manager", format_deviations("manager"), EVENT_ORDER, ITEM_ORDER)


@pytest.fixture(scope="session")
def manager_replays() -> Replays:
    return Replays(CASES, fmt="manager", node_id=NODE, scale=SCALE)


@pytest.mark.parametrize(
    ("case", "number"),
    [(case, ex.number) for case in CASES for ex in read_http_fixture(case)],
    ids=lambda value: str(value),
)
def test_exchange_matches_the_capture(manager_replays: Replays, case: str, number: int) -> None:
    EXPECT.check_exchange(manager_replays.get(case), case, number)


@pytest.mark.parametrize("case", sorted(EVENT_ORDER))
def test_call_events_arrive_complete_and_in_channel_order(
    manager_replays: Replays, case: str
) -> None:
    EXPECT.assert_same_events(manager_replays.get(case), case)


def test_every_deviation_is_an_exchange_that_exists() -> None:
    assert len(CASES) == 28
    exchanges = {(c, ex.number) for c in CASES for ex in read_http_fixture(c)}
    assert EXPECT.refer_to(exchanges)
