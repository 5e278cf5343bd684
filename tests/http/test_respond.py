from __future__ import annotations

from gateway.ami.message import Message
from gateway.core.events import EventLog
from gateway.core.replies import Reply
from gateway.http.respond import CookiePolicy, ajam_response, render_reply
from gateway.render import FORMATS, RenderOptions


def test_cookie_is_asterisks_form_plus_optional_attributes() -> None:
    assert CookiePolicy().header("abc") == 'mansession_id="abc"; Version=1; Max-Age=60'
    full = CookiePolicy(30, "/asterisk", "Lax", secure=True, httponly=True).header("abc")
    assert full == (
        'mansession_id="abc"; Version=1; Max-Age=30; Path=/asterisk; SameSite=Lax; Secure; HttpOnly'
    )


def test_events_are_rendered_once_per_format() -> None:
    log = EventLog(4)
    event = log.append(Message.of(("Event", "X"), ("Privilege", "call,all")))
    head = Message.of(("Response", "Success"))
    reply = Reply((head,), (event,), (Message.of(("Event", "WaitEventComplete")),))
    rawman = FORMATS["rawman"]
    body = render_reply(rawman, reply, RenderOptions())
    assert body == (
        b"Response: Success\r\n\r\nEvent: X\r\nPrivilege: call,all\r\n\r\n"
        b"Event: WaitEventComplete\r\n\r\n"
    )
    key = next(k for k in event.fragments if k.startswith("rawman"))
    event.fragments[key] = b"CACHED\r\n\r\n"
    assert b"CACHED" in render_reply(rawman, reply, RenderOptions())


def test_response_headers() -> None:
    response = ajam_response(FORMATS["mxml"], b"<x/>", cookie="c=1")
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache, no-store"
    assert response.headers["Pragma"] == "SuppressEvents"
    assert "Set-Cookie" not in ajam_response(FORMATS["rawman"], b"", cookie=None).headers


def test_both_html_pages_share_one_rendering_of_an_event() -> None:
    event = EventLog(4).append(Message.of(("Event", "X"), ("Privilege", "call,all")))
    reply = Reply((), (event,), ())
    render_reply(FORMATS["manager"], reply, RenderOptions())
    assert list(event.fragments) == ["html"]
    event.fragments["html"] = b"CACHED"
    assert b"CACHED" in render_reply(FORMATS["amanager"], reply, RenderOptions())
