"""What the AJAM replay tests compare, for every output format.

``check_exchange`` compares the gateway's masked answer with the capture's,
after the capture's side is changed where the gateway differs on purpose
(``Deviation``).  ``ami_reply`` builds such an answer in any format from AMI
messages, through the gateway's renderers, which test_render_* check byte
for byte against the captures on their own.  ``messages_of`` reads a body of
any format back into messages, so that the event-order checks work for mxml
and manager pages too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import pytest

from gateway.ami.message import Message, decode
from gateway.http.respond import SERVER_NAME
from gateway.render import FORMATS, render
from tests.support.amimask import parse_stream
from tests.support.fixturedata import read_http_fixture
from tests.support.httpmask import Change, View, threads
from tests.support.replay_http import SLACK, CaseRun, replay_cases

CHARSET: Final = "; charset=utf-8"
SAME_SESSION: Final = 'mansession_id="<same>"; Version=1; Max-Age=60'
NEW_SESSION: Final = 'mansession_id="<new>"; Version=1; Max-Age=60'


@dataclass(frozen=True, slots=True)
class Deviation:
    reason: str
    change: Change
    waits: float = 0.0
    """How long the gateway rightly waits here (a waitevent's own timeout)."""
    listed: bool = True
    """False: not among the replays' own cases; docs/deviations.md lists it."""


Deviations = Mapping[tuple[str, int], Deviation]
EventOrder = Mapping[str, tuple[int, ...]]

# -- what the gateway sends instead -------------------------------------------


def with_charset(view: View) -> View:
    """docs/deviations.md, Content-Type: every text type says utf-8."""
    if view.content_type is None or not view.content_type.startswith("text/"):
        return view
    return dataclasses.replace(view, content_type=view.content_type + CHARSET)


def empty_wait(action_id: str | None = None) -> tuple[Message, ...]:
    """A waitevent reply with no events, as the gateway words it."""
    aid = (("ActionID", action_id),) if action_id else ()
    return (
        Message((("Response", "Success"), *aid, ("Message", "Waiting for Event completed."))),
        Message((("Event", "WaitEventComplete"), *aid)),
    )


def error(message: str) -> tuple[Message, ...]:
    return (Message((("Response", "Error"), ("Message", message))),)


def ami_reply(fmt: str, messages: tuple[Message, ...], *, cookie: bool = True) -> Change:
    """An answer on the request's own session, in place of the capture's."""
    body = render(FORMATS[fmt], messages)
    return lambda view: dataclasses.replace(
        view,
        status=200,
        content_type=FORMATS[fmt].content_type,
        cache_control="no-cache, no-store",
        set_cookie=SAME_SESSION if cookie else None,
        pragma="SuppressEvents" if cookie else None,
        connection=None,
        content_length=str(len(body)),
        body=body,
        www_authenticate=None,
    )


def new_session(view: View) -> View:
    return dataclasses.replace(view, set_cookie=NEW_SESSION)


def server_name(view: View) -> View:
    body = view.body.replace(
        b"<address>Asterisk</address>", f"<address>{SERVER_NAME}</address>".encode()
    )
    return dataclasses.replace(view, body=body, content_length=str(len(body)))


def connection_closed(view: View) -> View:
    return dataclasses.replace(view, closed=True)


SERVER_NAME_PAGE: Final = (
    "not in section 5: error pages are signed with the gateway's own name, as its Server header;"
    " Asterisk signs with its http.conf servername"
)

# -- reading bodies back ------------------------------------------------------

_MXML_RESPONSE: Final = re.compile(r"<response type='object' id='[^']*'><[^ ]+ (.*?)/></response>")
_MXML_ATTRIBUTE: Final = re.compile(r"([A-Za-z0-9_-]+)='([^']*)'")
_MANAGER_ROW: Final = re.compile(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>|(<hr>)")


def _mxml_messages(body: bytes) -> list[Message]:
    return [
        Message(tuple((k, html.unescape(v)) for k, v in _MXML_ATTRIBUTE.findall(m.group(1))))
        for m in _MXML_RESPONSE.finditer(decode(body))
    ]


def _manager_messages(body: bytes) -> list[Message]:
    messages: list[Message] = []
    fields: list[tuple[str, str]] = []
    for name, value, rule in _MANAGER_ROW.findall(decode(body)):
        if rule:
            messages.append(Message(tuple(fields)))
            fields = []
        else:
            fields.append((html.unescape(name), html.unescape(value)))
    return messages


def messages_of(fmt: str, body: bytes) -> list[Message]:
    """A body of any AJAM format as the messages it shows."""
    if fmt == "mxml":
        return _mxml_messages(body)
    if fmt in ("manager", "amanager"):
        return _manager_messages(body)
    return parse_stream(body, banner=False)


# -- checking -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expectations:
    """One format's replay: its deviations and its event-order races."""

    fmt: str
    deviations: Deviations
    event_order: EventOrder
    item_order: EventOrder = dataclasses.field(default_factory=dict)
    """Answers listing channels in the order of Asterisk's channel container."""
    event_order_reason: str = (
        "Asterisk's own event order race (captures disagree with each other): same events,"
        " same framing, each channel's events in order, but a different interleaving or cut"
    )
    item_order_reason: str = (
        "Asterisk lists channels in its hash container's order, which changes from run to run:"
        " the same messages and framing, in another order"
    )

    def expected_view(self, run: CaseRun, case: str, number: int) -> View:
        view = with_charset(run.expected[number])
        deviation = self.deviations.get((case, number))
        return deviation.change(view) if deviation else view

    def assert_same_events(self, run: CaseRun, case: str) -> None:
        numbers = self.event_order[case]

        def read(views: list[View]) -> object:
            return threads([m for v in views for m in messages_of(self.fmt, v.body)])

        expected = [self.expected_view(run, case, n) for n in numbers]
        assert read([run.actual[n] for n in numbers]) == read(expected)
        for n, view in zip(numbers, expected, strict=True):
            assert framing(run.actual[n]) == framing(view)

    def assert_same_items(self, run: CaseRun, case: str, number: int) -> None:
        expected, actual = self.expected_view(run, case, number), run.actual[number]
        assert unordered(messages_of(self.fmt, actual.body)) == unordered(
            messages_of(self.fmt, expected.body)
        )
        assert framing(actual) == framing(expected)

    def check_exchange(self, run: CaseRun, case: str, number: int) -> None:
        deviation = self.deviations.get((case, number))
        bound = run.step(number).duration + (deviation.waits if deviation else 0.0) + SLACK
        assert run.answers[number].elapsed <= bound
        expected, actual = self.expected_view(run, case, number), run.actual[number]
        if actual != expected and number in self.event_order.get(case, ()):
            self.assert_same_events(run, case)
            pytest.xfail(self.event_order_reason)
        if actual != expected and number in self.item_order.get(case, ()):
            self.assert_same_items(run, case, number)
            pytest.xfail(self.item_order_reason)
        assert actual == expected

    def refer_to(self, exchanges: set[tuple[str, int]]) -> bool:
        """Whether every deviation and race names one of these exchanges, with a reason."""
        orders = (*self.event_order.items(), *self.item_order.items())
        races = {(c, n) for c, ns in orders for n in ns}
        reasons = all(d.reason for d in self.deviations.values())
        return set(self.deviations) <= exchanges and races <= exchanges and reasons


_NUMBERED: Final = re.compile(r"\bU\d+\b|(?<=-)L\d+(?=;)")
"""Uniqueid and Local sequence labels, numbered by first appearance (tests/support/amimask.py)."""


def unordered(messages: list[Message]) -> list[tuple[tuple[str, str], ...]]:
    """Messages as a sorted list, their id labels blanked: a different order renumbers them."""
    return sorted(tuple((k, _NUMBERED.sub("#", v)) for k, v in m) for m in messages)


def framing(view: View) -> View:
    """A view less its body: what must match even where events race."""
    return dataclasses.replace(view, body=b"", content_length=None)


class Replays:
    """Runs every case once, all at the same time, on first use."""

    def __init__(self, cases: tuple[str, ...], *, fmt: str, node_id: str, scale: float) -> None:
        self.cases = cases
        self.fmt = fmt
        self.node_id = node_id
        self.scale = scale
        self._runs: dict[str, CaseRun | BaseException] | None = None

    def get(self, case: str) -> CaseRun:
        if self._runs is None:
            self._runs = asyncio.run(
                replay_cases(self.cases, fmt=self.fmt, node_id=self.node_id, scale=self.scale)
            )
        run = self._runs[case]
        if isinstance(run, BaseException):
            raise run
        return run


# -- the deviations every format shares ---------------------------------------

LOGIN_ID: Final = "section 5, login: a new session id is issued at login (session fixation)"
KICKED: Final = "section 5, waitevent_concurrent: the kicked poll gets a well-formed empty reply"
INJECTION: Final = (
    "section 5, crlf_injection_attempt: CR/LF in a value or name is refused, nothing reaches AMI"
    " (no ActionID: the ActionID is itself the bad input)"
)
INJECTION_WAIT: Final = (
    "follows from the CR/LF refusal: no UserEvent and no RequestBadFormat were raised, so the"
    " waitevent runs its 2 s timeout and comes back empty"
)
TOO_LARGE: Final = (
    "section 5, huge_query: an AMI line over 1024 bytes is refused, nothing reaches AMI"
)
TOO_LARGE_WAIT: Final = (
    "follows from the refusal: no UserEvent HugePost, so the waitevent times out empty"
)
RAW_UTF8: Final = (
    "section 5, utf8_values: raw UTF-8 bytes in the request line: 400 from aiohttp's parser"
)
RAW_UTF8_WAIT: Final = "follows from the 400: the UserEvent Utf8Raw was never sent"

SEPARATORS: Final = {
    "rawman": b"\r\n\r\n",
    "mxml": b"\n",
    "manager": b'<tr><td colspan="2"><hr></td></tr>\r\n',
}
"""Where one message ends in each format's body."""
UTF8_RAW_EVENT: Final = {
    "rawman": b"UserEvent: Utf8Raw",
    "mxml": b"userevent='Utf8Raw'",
    "manager": b"<td>UserEvent</td><td>Utf8Raw</td>",
}


def without_event(fmt: str, marker: bytes) -> Change:
    """The capture's body less the one message holding ``marker``."""

    def change(view: View) -> View:
        messages = view.body.split(SEPARATORS[fmt])
        kept = [m for m in messages if marker not in m]
        assert len(kept) == len(messages) - 1, marker
        return dataclasses.replace(view, body=SEPARATORS[fmt].join(kept))

    return change


def aiohttp_400(fmt: str) -> Change:
    """aiohttp's own answer to raw UTF-8 in the request line."""
    line = read_http_fixture(f"{fmt}_utf8_values")[3].request_line
    caret = len("  b'") + line.index(b"\xd0")  # aiohttp points at the first bad byte
    body = b"Invalid char in url query:\n\n  " + repr(line).encode() + b"\n" + b" " * caret + b"^"
    view = View(400, "text/plain" + CHARSET, None, None, None, None, str(len(body)), body)
    return lambda _: view


def format_deviations(fmt: str) -> dict[tuple[str, int], Deviation]:
    """The deviations of the captures every format has (``<fmt>_<case>``)."""

    def reply(messages: tuple[Message, ...]) -> Change:
        return ami_reply(fmt, messages)

    invalid, too_large = error("Invalid character in request"), error("Request too large for AMI")
    table = {
        ("challenge_md5_login", 2): Deviation(LOGIN_ID, new_session),
        ("waitevent_concurrent", 3): Deviation(KICKED, reply(empty_wait("we-A"))),
        ("crlf_injection_attempt", 3): Deviation(INJECTION, reply(invalid)),
        ("crlf_injection_attempt", 4): Deviation(INJECTION, reply(invalid)),
        ("crlf_injection_attempt", 5): Deviation(INJECTION, reply(invalid)),
        ("crlf_injection_attempt", 6): Deviation(INJECTION_WAIT, reply(empty_wait()), waits=2.0),
        ("huge_query", 3): Deviation(TOO_LARGE, reply(too_large)),
        ("huge_query", 4): Deviation(TOO_LARGE, reply(too_large)),
        ("huge_query", 5): Deviation(TOO_LARGE_WAIT, reply(empty_wait()), waits=2.0),
        ("utf8_values", 4): Deviation(RAW_UTF8, aiohttp_400(fmt)),
        ("utf8_values", 6): Deviation(RAW_UTF8_WAIT, without_event(fmt, UTF8_RAW_EVENT[fmt])),
        **{
            ("trailing_slash_and_case", n): Deviation(SERVER_NAME_PAGE, server_name, listed=False)
            for n in (5, 6, 7)
        },
    }
    return {(f"{fmt}_{case}", n): deviation for (case, n), deviation in table.items()}
