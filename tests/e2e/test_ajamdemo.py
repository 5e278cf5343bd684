"""Asterisk's AJAM demo through ``{prefix}/static/``, in headless Chromium.

The gateway serves ``tests/data/ajamdemo/`` as its ``static_dir``, as
Asterisk serves its ``static-http``: a behavioural stand-in for
``ajamdemo.html``, ``astman.js`` and the bit of Prototype they use (Asterisk's
files are GPL and stay out of this repository; the stand-ins make the same
requests to ``../rawman`` and parse the answers the same way, by ``\\r\\n``
and ``": "``).  A user types the credentials and presses Login, as on the
real page; the page lists a call already up (``action=status``), then one
started later (its waitevent loop), and hangs one up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.simulator import Simulator
from gateway.simulator.dialplan import Call, OriginateRequest
from tests.support.browser import CHROMIUM, devtools
from tests.support.livegateway import gateway

DEMO = Path(__file__).parents[1] / "data" / "ajamdemo"
STATUS = "document.getElementById('statusbar').textContent"
ROWS = "Array.from(document.querySelectorAll('#channellist tr[id]'), (row) => row.id).sort()"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")


def call(simulator: Simulator) -> Call:
    started = simulator.pbx.originate(
        OriginateRequest("Local/600@test", application="Wait", data="60", announce=False)
    )
    assert started is not None
    return started


def names(*calls: Call) -> list[str]:
    return sorted(chan.name for one in calls for chan in (one.one, one.two))


async def test_the_ajam_demo_logs_in_and_shows_channels(
    simulator: Simulator, tmp_path: Path
) -> None:
    async with (
        gateway(simulator, http={"static_dir": str(DEMO)}) as running,
        devtools(tmp_path / "profile") as browser,
    ):
        first = call(simulator)
        page = await browser.open_page(f"{running.base}/asterisk/static/ajamdemo.html")
        # Its ping answered "Response: Success", not Asterisk 1.4's "Pong".
        await page.until_equal(STATUS, "Please login...")
        # "caller" reads the call class only: astman.js, given a Cdr event
        # (class cdr) after a channel's Hangup, would list the channel again.
        await page.type_into("#username", "caller")
        await page.type_into("#secret", "caller-secret")
        await page.click("#login")
        await page.until_equal(STATUS, "Ready")
        assert await page.evaluate(ROWS) == names(first)

        second = call(simulator)  # seen through the page's waitevent loop
        await page.until_equal(ROWS, names(first, second))

        # Select a row and press Hangup: action=hangup&channel=NAME, unencoded.
        target = json.dumps(first.two.name)
        await page.evaluate(f"document.getElementById({target}).click()")
        await page.until("!document.getElementById('hangup').disabled")
        await page.click("#hangup")
        await page.until_equal(STATUS, f"Hungup {first.two.name}")
        await page.until_equal(ROWS, names(second))
        assert not [line for line in browser.console if line.startswith("exception")]
        assert await page.evaluate("window.astmanError === undefined")
