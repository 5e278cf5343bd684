"""mxml: every captured mxml body is rebuilt byte for byte, and stays XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.ami.message import OPAQUE, Message, decode
from gateway.render import FORMATS, RenderOptions, render
from gateway.render.mxml import attribute_name, element_name, response_id
from gateway.render.text import BLANKS
from tests.support.renderdata import Rendered, captured_replies, parse_mxml, parse_rawman

MXML = FORMATS["mxml"]
ALL_REPLIES = captured_replies()[0]
REPLIES = [reply for reply in ALL_REPLIES if reply.fmt == "mxml"]
RAWMAN_BY_CASE = {(r.case, r.number): r for r in ALL_REPLIES if r.fmt == "rawman"}


def _options(reply: Rendered) -> RenderOptions:
    return RenderOptions(reply.param("ajaxdest"), reply.param("ajaxobjtype"))


@pytest.mark.parametrize("reply", REPLIES, ids=lambda r: r.id)
def test_capture_rebuilt(reply: Rendered) -> None:
    parsed = parse_mxml(reply.body)
    assert set(parsed.ids) <= {reply.param("ajaxdest") or "unknown"}
    assert set(parsed.elements) <= {reply.param("ajaxobjtype") or "generic"}
    assert render(MXML, parsed.messages, _options(reply)) == reply.body


def _with_rawman_names(mxml: list[Message], rawman: list[Message]) -> tuple[list[Message], int]:
    """mxml's values under rawman's original names, where the messages pair up."""
    out, paired = [], 0
    for index, msg in enumerate(mxml):
        other = rawman[index] if index < len(rawman) else None
        if other is None or len(other) != len(msg) or other.name != msg.name:
            out.append(msg)  # the two recordings differ here
            continue
        paired += 1
        out.append(Message(tuple((a[0], b[1]) for a, b in zip(other, msg, strict=True))))
    return out, paired


@pytest.mark.parametrize("reply", REPLIES, ids=lambda r: r.id)
def test_capture_rebuilt_from_rawman_names(reply: Rendered) -> None:
    """The rawman capture of the same case gives the names as Asterisk had them."""
    rawman = RAWMAN_BY_CASE[(reply.case.replace("mxml", "rawman", 1), reply.number)]
    messages, paired = _with_rawman_names(
        parse_mxml(reply.body).messages, parse_rawman(rawman.body, keep_raw=False)
    )
    assert paired >= 1 or not messages
    assert render(MXML, messages, _options(reply)) == reply.body


def test_dashes_and_spaces_in_names() -> None:
    msg = Message.of(("Cause-txt", "Normal"), ("CID-CallingPres", "0"), ("Key Space", "sp"))
    assert MXML.fragment(msg, RenderOptions()) == (
        b"<response type='object' id='unknown'><generic cause_txt='Normal' "
        b"cid_callingpres='0' key_space='sp' /></response>\n"
    )


def test_attribute_names() -> None:
    assert attribute_name("1abc") == "_1abc"
    assert attribute_name("a1") == "a1"
    assert attribute_name("Имя") == "_" * 6  # per UTF-8 byte, as Asterisk
    assert attribute_name(decode(b"A\xff")) == "a_"
    assert attribute_name(" ") == "_"


def test_repeats_numbered_and_case_variants_kept_apart() -> None:
    msg = Message.of(("Output", "a"), ("Output", "b"), ("output", "c"), ("Foo", "d"))
    assert b"output='a' output-2='b' output-3='c' foo='d'" in MXML.fragment(msg, RenderOptions())


def test_every_markup_character_escaped() -> None:
    msg = Message.of(("CallerID", '"A&B" <1\'2>'))
    expected = b"callerid='&quot;A&amp;B&quot; &lt;1&apos;2&gt;'"
    assert expected in MXML.fragment(msg, RenderOptions())


def test_non_ascii_and_invalid_bytes_pass_raw() -> None:
    msg = Message.of(("Name", decode("Иван Петров".encode() + b"\xff")))
    assert "name='Иван Петров".encode() + b"\xff'" in MXML.fragment(msg, RenderOptions())


def test_trimmed_as_asterisk_does() -> None:
    msg = Message.of(("Key \t", "  value \t"), ("Empty", "   "))
    assert b" key='value' empty='' " in MXML.fragment(msg, RenderOptions())


def test_opaque_data_takes_every_later_line() -> None:
    msg = Message.of(("Response", "Follows"), (OPAQUE, "line 1  "), ("Key", "v"), (OPAQUE, "<end>"))
    expected = b"response='Follows' opaque_data='line 1\nKey: v\n&lt;end&gt;' /></response>\n"
    assert MXML.fragment(msg, RenderOptions()).endswith(expected)


def test_empty_document_and_empty_message() -> None:
    assert render(MXML, []) == b"<ajax-response>\n</ajax-response>\n"
    assert MXML.fragment(Message(()), RenderOptions()) == b""


def test_hostile_ajaxdest_and_ajaxobjtype_are_made_safe() -> None:
    opts = RenderOptions(ajaxdest="x'/><evil a='\x01", ajaxobjtype="9 <script>")
    body = render(MXML, [Message.of(("Response", "Success"))], opts)
    root = ET.fromstring(body)
    assert root[0].get("id") == "x'/><evil a='"
    assert root[0][0].tag == "_9__script_"
    assert response_id("") == "unknown"
    assert element_name("") == "generic"
    assert element_name("MyType") == "MyType"


def test_cache_key_follows_options() -> None:
    plain = MXML.cache_key(RenderOptions())
    assert plain == MXML.cache_key(RenderOptions("", ""))
    assert plain == MXML.cache_key(RenderOptions(session="abc"))
    assert plain != MXML.cache_key(RenderOptions("foo"))
    assert MXML.cache_key(RenderOptions("a b", "c")) != MXML.cache_key(RenderOptions("b", "a_c"))
    assert MXML.content_type == "text/xml; charset=utf-8"


_XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Cn"), blacklist_characters="\ufffe\uffff")
)
_FIELDS = st.lists(st.tuples(_XML_TEXT, _XML_TEXT), min_size=1, max_size=12)


@given(st.lists(_FIELDS, max_size=4), _XML_TEXT, _XML_TEXT)
def test_always_well_formed_xml(messages: list[list[tuple[str, str]]], dest: str, obj: str) -> None:
    built = [Message(tuple(fields)) for fields in messages]
    root = ET.fromstring(render(MXML, built, RenderOptions(dest, obj)))
    assert len(root) == len(built)
    for element, msg in zip(root, built, strict=True):
        assert element.get("id") == (dest or "unknown")
        if OPAQUE not in (name for name, _ in msg):
            assert list(element[0].attrib.values()) == [v.strip(BLANKS) for _, v in msg]
