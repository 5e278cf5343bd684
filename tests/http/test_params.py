from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.ami.message import encode, header
from gateway.http.params import (
    cookie_session_id,
    parse_form,
    query_parameter,
    split_target,
    unquote,
)


def test_url_encoding_fixture_decodes_as_asterisk_does() -> None:
    raw = (
        b"action=userevent&userevent=EncTest&text=a+b%2Bc%20d&amp=x%26y&eq=k%3Dv"
        b"&pct=100%25&lower=%2b%2f&bad=%ZZ%4&x%2Dy=dash-key&Key+Space=sp&novalue&empty="
    )
    assert parse_form(raw)[2:] == [
        ("text", "a b+c d"),
        ("amp", "x&y"),
        ("eq", "k=v"),
        ("pct", "100%"),
        ("lower", "+/"),
        ("bad", "%ZZ%4"),
        ("x-y", "dash-key"),
        ("Key Space", "sp"),
        ("novalue", ""),
        ("empty", ""),
    ]


def test_repeats_order_and_first_equals_sign() -> None:
    pairs = parse_form(b"Variable=A=1&Variable=B=2&Variable=C%3D3&&x")
    assert pairs == [("Variable", "A=1"), ("Variable", "B=2"), ("Variable", "C=3"), ("x", "")]


def test_utf8_and_invalid_bytes_survive() -> None:
    pairs = parse_form(b"n=%D0%98%D0%B2%D0%B0%D0%BD&bad=%FF")
    assert pairs[0] == ("n", "Иван")
    assert encode(pairs[1][1]) == b"\xff"


def test_crlf_is_decoded_so_that_validation_can_see_it() -> None:
    assert parse_form(b"actionid=x%0D%0AAction:%20Ping") == [("actionid", "x\r\nAction: Ping")]


def test_cookie_quoted_unquoted_and_among_others() -> None:
    assert cookie_session_id('mansession_id="83c92bb4"') == "83c92bb4"
    assert cookie_session_id("mansession_id=83c92bb4") == "83c92bb4"
    assert cookie_session_id('foo=bar; mansession_id="83c92bb4"; baz=1') == "83c92bb4"
    assert cookie_session_id("foo=bar") is None
    assert cookie_session_id(None) is None
    assert cookie_session_id('mansession_id=""') is None


def test_split_target_and_first() -> None:
    path, query = split_target("/asterisk/rawman?action=ping&ActionID=1")
    assert path == "/asterisk/rawman"
    assert query == b"action=ping&ActionID=1"
    assert header(parse_form(query), "actionid") == "1"
    assert header([], "x") is None


def test_one_query_parameter_reads_as_the_form_does() -> None:
    raw = b"action=ping&MANSESSION%5Fid=a%2Bb+c&mansession_id=second"
    assert query_parameter(raw, "mansession_id") == "a+b c"  # the first, any case
    assert query_parameter(raw, "mansession_id") == header(parse_form(raw), "mansession_id")
    assert query_parameter(b"", "mansession_id") is None
    assert query_parameter(b"mansession_idx=1", "mansession_id") is None


@given(st.binary(max_size=64))
def test_unquote_of_quoted_bytes_is_identity(data: bytes) -> None:
    quoted = "".join(f"%{b:02X}" for b in data).encode()
    assert unquote(quoted) == data


def _byte_loop(raw: bytes) -> bytes:
    """The rule spelt out byte by byte, as Asterisk's decoder walks it."""
    hexdigits = frozenset(b"0123456789abcdefABCDEF")
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i] == 0x2B:
            out.append(0x20)
        elif raw[i] == 0x25 and i + 2 < len(raw) and {raw[i + 1], raw[i + 2]} <= hexdigits:
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 2
        else:
            out.append(raw[i])
        i += 1
    return bytes(out)


@given(st.lists(st.sampled_from([b"%", b"+", b"2", b"B", b"f", b"g", b"\xff", b"%2B", b"%4"])))
def test_unquote_matches_the_byte_by_byte_rule(parts: list[bytes]) -> None:
    raw = b"".join(parts)
    assert unquote(raw) == _byte_loop(raw)
