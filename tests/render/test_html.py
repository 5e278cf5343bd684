"""manager and amanager: every captured HTML page is rebuilt byte for byte."""

from __future__ import annotations

import pytest

from gateway.ami.message import OPAQUE, Message, decode
from gateway.render import FORMATS, RenderOptions, render
from gateway.render.html import DIGEST_HEAD, DIGEST_TAIL, MANAGER_HEAD, MANAGER_TAIL
from tests.support.renderdata import Rendered, captured_replies, parse_html

REPLIES = [reply for reply in captured_replies()[0] if reply.fmt in ("manager", "amanager")]
PAGES = {"manager": (MANAGER_HEAD, MANAGER_TAIL), "amanager": (DIGEST_HEAD, DIGEST_TAIL)}
MANAGER = FORMATS["manager"]
SEPARATOR = b'<tr><td colspan="2"><hr></td></tr>\r\n'


@pytest.mark.parametrize("reply", REPLIES, ids=lambda r: r.id)
def test_capture_rebuilt(reply: Rendered) -> None:
    messages = parse_html(reply.body, *PAGES[reply.fmt])
    assert render(FORMATS[reply.fmt], messages) == reply.body


def test_both_pages_covered() -> None:
    assert sum(r.fmt == "amanager" for r in REPLIES) == 3
    assert sum(r.fmt == "manager" for r in REPLIES) == 99


def test_rows_keep_case_and_number_repeats() -> None:
    msg = Message.of(("Response", "Success"), ("Output", "a"), ("Output", "b"), ("Cause-txt", "x"))
    assert MANAGER.fragment(msg, RenderOptions()) == (
        b"<tr><td>Response</td><td>Success</td></tr>\n"
        b"<tr><td>Output</td><td>a</td></tr>\n"
        b"<tr><td>Output-2</td><td>b</td></tr>\n"
        b"<tr><td>Cause-txt</td><td>x</td></tr>\n" + SEPARATOR
    )


def test_names_and_values_escaped() -> None:
    msg = Message.of(("<b>", '"A&B" <1\'2>'))
    expected = b"<tr><td>&lt;b&gt;</td><td>&quot;A&amp;B&quot; &lt;1&apos;2&gt;</td></tr>\n"
    assert MANAGER.fragment(msg, RenderOptions()) == expected + SEPARATOR


def test_opaque_lines_joined_with_br() -> None:
    msg = Message.of(("Response", "Follows"), (OPAQUE, "one"), (OPAQUE, "two"))
    assert MANAGER.fragment(msg, RenderOptions()) == (
        b"<tr><td>Response</td><td>Follows</td></tr>\n"
        b"<tr><td>Opaque-data</td><td>one<br>\ntwo</td></tr>\n" + SEPARATOR
    )


def test_non_ascii_and_invalid_bytes_pass_raw() -> None:
    msg = Message.of(("Name", decode("Иван".encode() + b"\xfe")))
    assert "<td>Иван".encode() + b"\xfe</td>" in MANAGER.fragment(msg, RenderOptions())


def test_empty_pages() -> None:
    assert render(MANAGER, []) == MANAGER_HEAD + MANAGER_TAIL
    assert render(FORMATS["amanager"], []) == DIGEST_HEAD + DIGEST_TAIL
    assert MANAGER.fragment(Message(()), RenderOptions()) == b""


def test_both_pages_share_fragments() -> None:
    msg = Message.of(("Response", "Success"))
    digest = FORMATS["amanager"]
    assert digest.fragment(msg, RenderOptions()) == MANAGER.fragment(msg, RenderOptions())
    assert digest.cache_key(RenderOptions()) == MANAGER.cache_key(RenderOptions("x", "y"))
    assert digest.content_type == MANAGER.content_type == "text/html; charset=utf-8"
