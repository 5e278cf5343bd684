"""The row model shared by mxml and manager: trimming, opaque data, numbering."""

from __future__ import annotations

from gateway.ami.message import OPAQUE, Message
from gateway.render.text import OPAQUE_NAME, escape, numbered, rows


def test_escape_all_five_and_nothing_else() -> None:
    assert escape("<>\"'&") == "&lt;&gt;&quot;&apos;&amp;"
    assert escape("&lt;") == "&amp;lt;"
    assert escape("plain Иван\t") == "plain Иван\t"


def test_rows_trim_like_asterisk() -> None:
    msg = Message.of((" Key\x01 ", "\t value  "), ("Empty", " "))
    assert rows(msg) == [(" Key", ("value",)), ("Empty", ("",))]


def test_opaque_starts_at_first_line_without_colon() -> None:
    msg = Message.of(
        ("Response", "Follows"),
        (OPAQUE, "  indented stays  "),
        ("Name", "value"),
        (OPAQUE, ""),
    )
    assert rows(msg) == [
        ("Response", ("Follows",)),
        (OPAQUE_NAME, ("  indented stays", "Name: value", "")),
    ]


def test_no_fields_no_rows() -> None:
    assert rows(Message(())) == []


def test_numbered() -> None:
    names = ["a", "b", "a", "a", "b", "c"]
    assert list(numbered(names)) == ["a", "b", "a-2", "a-3", "b-2", "c"]
