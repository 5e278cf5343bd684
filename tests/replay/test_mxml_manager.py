"""Every mxml and manager capture replayed against the gateway and the simulator.

The same replay as rawman's (tests/replay/test_rawman.py), with the mxml
attributes or manager table rows masked instead of rawman lines; the
deviations are the ones every format shares (tests/support/replay_checks.py),
rendered in the capture's own format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pytest

from tests.support.fixturedata import ajam_cases, read_http_fixture
from tests.support.replay_checks import Expectations, Replays, format_deviations

SCALE: Final = 0.25
NODE: Final = "t1"
FORMATS: Final = ("mxml", "manager")
CASES: Final = {
    fmt: tuple(name for name in ajam_cases() if name.startswith(f"{fmt}_")) for fmt in FORMATS
}


def event_order(fmt: str) -> dict[str, tuple[int, ...]]:
    """The same races of Asterisk's own event order as in rawman's captures."""
    return {
        f"{fmt}_originate_async": (4,),
        f"{fmt}_header_with_dash": (4,),
        f"{fmt}_utf8_values": (6,),
        f"{fmt}_waitevent_with_events": (3, 5),
    }


MANAGER_EVENT_ORDER: Final = {"manager_query_repeated_variable": (4,)}
"""In this capture a DeviceStateChange also overtook OriginateResponse."""
MANAGER_ITEM_ORDER: Final[Mapping[str, tuple[int, ...]]] = {"manager_coreshowchannels_two": (3, 4)}
"""CoreShowChannels items and Hangup's ChannelHungup list come ;2 before ;1 here."""

EXPECT: Final = {
    "mxml": Expectations("mxml", format_deviations("mxml"), event_order("mxml")),
    "manager": Expectations(
        "manager",
        format_deviations("manager"),
        {**event_order("manager"), **MANAGER_EVENT_ORDER},
        MANAGER_ITEM_ORDER,
    ),
}


FORMAT_REPLAYS: Final = {
    fmt: Replays(CASES[fmt], fmt=fmt, node_id=NODE, scale=SCALE) for fmt in FORMATS
}
"""Each format's cases run together, once, when a test first asks."""


@pytest.mark.parametrize(
    ("fmt", "case", "number"),
    [
        (fmt, case, ex.number)
        for fmt in FORMATS
        for case in CASES[fmt]
        for ex in read_http_fixture(case)
    ],
    ids=lambda value: str(value),
)
def test_exchange_matches_the_capture(fmt: str, case: str, number: int) -> None:
    EXPECT[fmt].check_exchange(FORMAT_REPLAYS[fmt].get(case), case, number)


@pytest.mark.parametrize(
    ("fmt", "case"), [(fmt, case) for fmt in FORMATS for case in sorted(EXPECT[fmt].event_order)]
)
def test_call_events_arrive_complete_and_in_channel_order(fmt: str, case: str) -> None:
    EXPECT[fmt].assert_same_events(FORMAT_REPLAYS[fmt].get(case), case)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_deviation_is_an_exchange_that_exists(fmt: str) -> None:
    assert len(CASES[fmt]) == 28
    exchanges = {(c, ex.number) for c in CASES[fmt] for ex in read_http_fixture(c)}
    assert EXPECT[fmt].refer_to(exchanges)
