"""The live-calls dashboard ({prefix}/static/dashboard/) in headless Chromium.

The gateway runs in this process under its production runner, on a fixed
port so that a test can stop it and start a new one in its place
(tests/support/livegateway.py), against the simulator, and serves the page
from the package; Chromium is driven through the
DevTools protocol (tests/support/browser.py) as a user would: typing into
the login form, pressing buttons, and reading the channel rows
(``tr[data-uniqueid]``) from the DOM.  Every ``{prefix}/events`` request the
browser makes is recorded (its ``Last-Event-ID``, status and transport), so
a test can cut a stream from the server side and see how the page came back.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.app import GATEWAY
from gateway.simulator import Simulator
from gateway.simulator.channels import Channel
from gateway.simulator.dialplan import Call, OriginateRequest
from tests.support.browser import CHROMIUM, DevTools, Page, devtools
from tests.support.harness import until
from tests.support.historyapp import CALLS, history_section
from tests.support.livegateway import Gateway, gateway

ROWS = (
    "Array.from(document.querySelectorAll('#channels tr[data-uniqueid]'),"
    " (row) => row.dataset.uniqueid).sort()"
)
LINK = "document.getElementById('link').dataset.state"
STATUS = "document.getElementById('status').textContent"
LIVE_BOUND = 1.0
"""Issue 14: a call started in the PBX shows on the page within a second."""

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")


def cells(rows: str, *columns: int) -> str:
    """An expression: the text of these cells of each row ``rows`` selects."""
    picked = ", ".join(f"row.cells[{column}].textContent" for column in columns)
    return f"Array.from(document.querySelectorAll({json.dumps(rows)}), (row) => [{picked}])"


@contextlib.asynccontextmanager
async def browsing(tmp_path: Path) -> AsyncIterator[DevTools]:
    """Chromium, and at the end no uncaught exception in any page it showed."""
    async with devtools(tmp_path / "profile") as browser:
        yield browser
        thrown = [line for line in browser.console if line.startswith("exception")]
        assert not thrown, thrown


def call(simulator: Simulator, exten: str = "600", **fields: Any) -> Call:
    request = OriginateRequest(
        f"Local/{exten}@test", application="Wait", data="60", announce=False, **fields
    )
    started = simulator.pbx.originate(request)
    assert started is not None
    return started


def bridge_event(name: str, chan: Channel) -> tuple[tuple[str, str], ...]:
    return (
        ("Event", name),
        ("Privilege", "call,all"),
        ("BridgeUniqueid", "5ea1c0de-0000-4000-8000-000000000001"),
        ("BridgeType", "basic"),
        ("Channel", chan.name),
        ("Uniqueid", chan.uniqueid),
    )


def ids(*calls: Call) -> list[str]:
    return sorted(chan.uniqueid for one in calls for chan in (one.one, one.two))


def actions(simulator: Simulator, name: str) -> int:
    return sum(1 for action in simulator.received if (action.get("Action") or "").lower() == name)


async def logged_in(browser: DevTools, base: str) -> Page:
    """The dashboard, logged in by typing into its form, its stream live."""
    page = await browser.open_page(f"{base}/asterisk/static/dashboard/")
    await page.type_into("#login-user", "admin")
    await page.type_into("#login-secret", "admin-secret")
    await page.click("#login button[type=submit]")
    await page.until_equal(LINK, "live")
    assert await page.evaluate("document.getElementById('board').hidden") is False
    return page


async def showing_a_call(browser: DevTools, running: Gateway) -> tuple[Page, Call]:
    """The dashboard logged in, showing a call."""
    page = await logged_in(browser, running.base)
    first = call(running.simulator)
    await page.until_equal(ROWS, ids(first))
    return page, first


def next_call(simulator: Simulator, first: Call) -> Call:
    """A second call starts, and the first ends."""
    second = call(simulator)
    simulator.pbx.hangup([first.two])
    return second


async def test_a_call_shows_within_a_second_and_goes_with_its_hangup(
    simulator: Simulator, tmp_path: Path
) -> None:
    async with gateway(simulator) as running, browsing(tmp_path) as browser:
        page = await logged_in(browser, running.base)
        assert await page.evaluate(ROWS) == []
        # Text from the PBX is shown as text: this caller name is no element.
        name = '<img src=x onerror="window.injected=1">Иван & "Пётр"'
        started = time.monotonic()
        first = call(simulator, callerid=(name, "100"))
        await page.until_equal(ROWS, ids(first), timeout=LIVE_BOUND)
        shown = time.monotonic() - started
        assert shown < LIVE_BOUND
        row = f"document.querySelector('tr[data-uniqueid=\"{first.one.uniqueid}\"]')"
        await page.until_equal(f"{row}.cells[2].textContent", f"{name} <100>")
        assert await page.evaluate(f"{row}.cells[0].textContent") == first.one.name
        assert await page.evaluate("document.querySelector('#channels img')") is None
        assert await page.evaluate("window.injected") is None
        assert await page.evaluate("document.getElementById('channel-count').textContent") == "2"

        # The simulator bridges no calls: its two legs enter a bridge by hand.
        links = cells("#channels tbody tr", 0, 5)
        for chan in (first.one, first.two):
            simulator.emit(bridge_event("BridgeEnter", chan))
        one, two = first.one.name, first.two.name
        await page.until_equal(links, sorted([[one, f"with {two}"], [two, f"with {one}"]]))
        simulator.emit(bridge_event("BridgeLeave", first.one))
        await page.until_equal(links, sorted([[one, ""], [two, "in a bridge"]]))

        simulator.pbx.hangup([first.two])
        await page.until_equal(ROWS, [], timeout=LIVE_BOUND)
        assert await page.evaluate("document.getElementById('no-channels').hidden") is False
        # /history is off in this gateway: its panel stays hidden.
        assert await page.evaluate("document.getElementById('history-panel').hidden") is True


async def test_a_call_from_the_page_and_its_hangup_button(
    simulator: Simulator, tmp_path: Path
) -> None:
    async with gateway(simulator) as running, browsing(tmp_path) as browser:
        page = await logged_in(browser, running.base)
        # Local/600@test runs Wait 60 and, once answered, extension 600 again.
        for field_id, value in (("call-from", "600"), ("call-to", "600"), ("call-context", "test")):
            await page.evaluate(f"document.getElementById('{field_id}').value = ''")
            await page.type_into(f"#{field_id}", value)
        await page.click("#call button[type=submit]")
        await until(lambda: actions(simulator, "originate") == 1)
        sent = next(a for a in simulator.received if a.get("Action") == "Originate")
        assert (sent.get("Channel"), sent.get("Exten"), sent.get("Context")) == (
            "Local/600@test",
            "600",
            "test",
        )
        await page.until("document.querySelectorAll('#channels tr[data-uniqueid]').length === 2")
        channels = list(simulator.pbx.channels.values())
        assert await page.evaluate(ROWS) == sorted(chan.uniqueid for chan in channels)
        await page.until_equal(STATUS, "Call to 600 answered")

        two = next(chan for chan in channels if chan.name.endswith(";2"))
        await page.click(f"tr[data-uniqueid='{two.uniqueid}'] button")
        await page.until_equal(ROWS, [])
        hangups = [a for a in simulator.received if a.get("Action") == "Hangup"]
        assert [a.get("Channel") for a in hangups] == [two.name]
        label = f"tr[data-uniqueid='{two.uniqueid}'] button"
        assert await page.evaluate(f"document.querySelector({json.dumps(label)})") is None


async def test_the_queue_view_is_seeded_and_follows_its_callers(
    simulator: Simulator, tmp_path: Path
) -> None:
    async with gateway(simulator) as running, browsing(tmp_path) as browser:
        page = await logged_in(browser, running.base)
        members = cells("[data-queue=testq] table:first-of-type tbody tr", 0, 1)
        callers = cells("[data-queue=testq] table:last-of-type tbody tr", 1, 2)
        await page.until_equal(members, [["StaticMember200", "Local/200@test"]])
        assert await page.evaluate(callers) == []
        # The member answers at once: the caller waits for milliseconds, so
        # every state the callers' table passes through is recorded.
        await page.evaluate(
            "window.shown = [];"
            " new MutationObserver(() => window.shown.push(" + callers + "))"
            ".observe(document.getElementById('queues'), {childList: true, subtree: true})"
        )
        caller = call(simulator, exten="500", callerid=("Queue Caller", "555"))
        waiting = [["Queue Caller <555>", caller.two.name]]
        await page.until("window.shown.some((c) => c.length) && window.shown.at(-1).length === 0")
        shown = await page.evaluate("window.shown")
        assert waiting in shown, shown
        assert await page.evaluate(members) == [["StaticMember200", "Local/200@test"]]


async def test_the_history_panel_shows_a_numbers_calls(
    simulator: Simulator, tmp_path: Path
) -> None:
    history = history_section(tmp_path / "h.sqlite3")
    async with (
        gateway(simulator, history=history) as running,
        browsing(tmp_path) as browser,
    ):
        assert running.app is not None
        recorder = running.app[GATEWAY].history.recorder
        assert recorder is not None
        for fields in CALLS:
            simulator.emit(fields)
        await until(lambda: recorder.written >= len(CALLS))
        page = await logged_in(browser, running.base)
        await page.until_equal("document.getElementById('history-panel').hidden", False)
        await page.type_into("#history-number", "+7 912 000-00-00")
        await page.click("#history-form button[type=submit]")
        await page.until_equal(
            cells("#history tbody tr", 1, 2, 3),
            [
                ["8 (912) 000 00 00", "300", "ANSWERED"],
                ["9120000000", "200", "BUSY"],
                ["100", "89120000000", "NO ANSWER"],
                ["+7 912 000-00-00", "100", "ANSWERED"],
            ],
        )


async def test_a_stream_cut_by_the_server_resumes_from_its_last_event_id(
    simulator: Simulator, tmp_path: Path
) -> None:
    async with gateway(simulator) as running, browsing(tmp_path) as browser:
        page, first = await showing_a_call(browser, running)
        seeds = actions(simulator, "coreshowchannels")
        (stream,) = running.live_streams()
        assert stream.transport is not None
        assert running.app is not None
        seen_up_to = running.app[GATEWAY].log.last_seq
        stream.transport.abort()  # the server cuts the stream mid-call
        second = next_call(simulator, first)  # while the browser waits to reconnect
        await page.until_equal(ROWS, ids(second))
        resumed = running.live_streams()[-1]
        assert resumed is not stream
        assert resumed.last_event_id is not None
        assert 0 < int(resumed.last_event_id) <= seen_up_to
        # Resumed, not re-seeded: the rows came from the events after Last-Event-ID.
        assert actions(simulator, "coreshowchannels") == seeds
        assert await page.evaluate(LINK) == "live"
        assert await page.evaluate("document.querySelectorAll('#channels tbody tr').length") == 2


async def test_a_gateway_restart_mid_call_logs_in_again_and_reseeds(
    simulator: Simulator, tmp_path: Path
) -> None:
    async with gateway(simulator) as running, browsing(tmp_path) as browser:
        page, first = await showing_a_call(browser, running)
        await running.stop()
        # No gateway sees these events; only a new snapshot can show them.
        second = next_call(simulator, first)
        await until(lambda: first.one.name.lower() not in simulator.pbx.channels)
        seen, seeds = len(running.streams), actions(simulator, "coreshowchannels")
        await running.start()
        await page.until_equal(ROWS, ids(second), timeout=20.0)
        assert running.app is not None
        sessions = running.app[GATEWAY].sessions
        assert [s.identity.username for s in sessions if s.identity] == ["admin"]  # a new login
        (stream,) = running.streams[seen:]
        assert stream.status == 200
        assert stream.last_event_id is None  # the old gateway's cursor means nothing here
        assert actions(simulator, "coreshowchannels") == seeds + 1
        assert await page.evaluate(LINK) == "live"
        third = call(simulator)  # and it is live again
        await page.until_equal(ROWS, ids(second, third), timeout=LIVE_BOUND)
