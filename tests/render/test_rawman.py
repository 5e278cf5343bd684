"""rawman: every captured rawman body is rebuilt byte for byte."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.ami.message import OPAQUE, Message, decode
from gateway.render import FORMATS, RenderOptions, render
from gateway.render.rawman import RawmanFormat
from tests.support.renderdata import Rendered, captured_replies, parse_rawman

RAWMAN = FORMATS["rawman"]
REPLIES = [reply for reply in captured_replies()[0] if reply.fmt == "rawman"]


@pytest.mark.parametrize("reply", REPLIES, ids=lambda r: r.id)
def test_capture_rebuilt_from_fields(reply: Rendered) -> None:
    messages = parse_rawman(reply.body, keep_raw=False)
    assert all(not m.raw for m in messages)
    assert render(RAWMAN, messages) == reply.body


@pytest.mark.parametrize("reply", REPLIES, ids=lambda r: r.id)
def test_capture_rebuilt_from_raw_bytes(reply: Rendered) -> None:
    assert render(RAWMAN, parse_rawman(reply.body, keep_raw=True)) == reply.body


def test_covers_plain_and_digest_and_extra_cases() -> None:
    cases = {reply.case for reply in REPLIES}
    assert {"rawman_ping", "arawman_digest_ok", "cookie_variants", "http10"} <= cases
    assert len(REPLIES) == 121


def test_raw_bytes_win_over_fields() -> None:
    msg = Message((("Response", "Success"),), raw=b"Response:  Success\r\n")
    assert RAWMAN.fragment(msg, RenderOptions()) == b"Response:  Success\r\n\r\n"


def test_opaque_line_is_bare() -> None:
    msg = Message.of(("Response", "Follows"), (OPAQUE, "line one"), (OPAQUE, "--END COMMAND--"))
    expected = b"Response: Follows\r\nline one\r\n--END COMMAND--\r\n\r\n"
    assert RAWMAN.fragment(msg, RenderOptions()) == expected


def test_invalid_utf8_and_non_ascii_pass_unchanged() -> None:
    msg = Message.of(("Event", "X"), ("Name", decode(b"\xd0\x98\xff")))
    assert RAWMAN.fragment(msg, RenderOptions()) == b"Event: X\r\nName: \xd0\x98\xff\r\n\r\n"


def test_empty_message_and_empty_document() -> None:
    assert RAWMAN.fragment(Message(()), RenderOptions()) == b""
    assert render(RAWMAN, []) == b""


def test_metadata_and_cache_key() -> None:
    fmt = RawmanFormat()
    assert (fmt.name, fmt.content_type) == ("rawman", "text/plain; charset=utf-8")
    assert fmt.cache_key(RenderOptions()) == fmt.cache_key(RenderOptions("a", "b", "c"))


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
_NAME = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=":"))


@given(st.lists(st.lists(st.tuples(_NAME.filter(bool), _TEXT), min_size=1), max_size=5))
def test_reparse_gives_the_same_messages(messages: list[list[tuple[str, str]]]) -> None:
    built = [Message(tuple(fields)) for fields in messages]
    body = render(RAWMAN, built)
    assert [m.fields for m in parse_rawman(body, keep_raw=False)] == [m.fields for m in built]
