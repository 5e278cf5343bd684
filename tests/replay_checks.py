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
from tests.amimask import parse_stream
from tests.httpmask import Change, View, by_thread
from tests.replay_http import SLACK, CaseRun, replay_cases

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
    """False: not (yet) in ajam-reference.md section 5; the lead has been told."""


Deviations = Mapping[tuple[str, int], Deviation]
EventOrder = Mapping[str, tuple[int, ...]]

# -- what the gateway sends instead -------------------------------------------


def with_charset(view: View) -> View:
    """ajam-reference section 5, Content-Type: every text type says utf-8."""
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
    event_order_reason: str = (
        "Asterisk's own event order race (captures disagree with each other): same events,"
        " same framing, each channel's events in order, but a different interleaving or cut"
    )

    def expected_view(self, run: CaseRun, case: str, number: int) -> View:
        view = with_charset(run.expected[number])
        deviation = self.deviations.get((case, number))
        return deviation.change(view) if deviation else view

    def assert_same_events(self, run: CaseRun, case: str) -> None:
        numbers = self.event_order[case]

        def threads(views: list[View]) -> object:
            return by_thread([m for v in views for m in messages_of(self.fmt, v.body)])

        expected = [self.expected_view(run, case, n) for n in numbers]
        assert threads([run.actual[n] for n in numbers]) == threads(expected)
        for n, view in zip(numbers, expected, strict=True):
            assert framing(run.actual[n]) == framing(view)

    def check_exchange(self, run: CaseRun, case: str, number: int) -> None:
        deviation = self.deviations.get((case, number))
        bound = run.step(number).duration + (deviation.waits if deviation else 0.0) + SLACK
        assert run.answers[number].elapsed <= bound
        expected, actual = self.expected_view(run, case, number), run.actual[number]
        if actual != expected and number in self.event_order.get(case, ()):
            self.assert_same_events(run, case)
            pytest.xfail(self.event_order_reason)
        assert actual == expected

    def refer_to(self, exchanges: set[tuple[str, int]]) -> bool:
        """Whether every deviation and race names one of these exchanges, with a reason."""
        races = {(c, n) for c, ns in self.event_order.items() for n in ns}
        reasons = all(d.reason for d in self.deviations.values())
        return set(self.deviations) <= exchanges and races <= exchanges and reasons


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
