"""gateway.posixre against glibc's own regcomp/regexec (the C library Asterisk
calls for its filters), in the C locale Asterisk runs in.

Every pattern both accept must match the same texts; a pattern only ours
refuses must use a feature RE2 cannot run (documented in posixre).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import locale
import re
from collections.abc import Iterator

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gateway.ami.message import decode
from gateway.posixre import PatternError, compile_posix, translate

REG_EXTENDED, REG_NOSUB = 1, 8
_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
_UNSUPPORTED = re.compile(rb"\\[1-9<>]|\[[.=][^\]]{2,}|\{[0-9]*,?0*[1-9][0-9]{3,}")
_MID_ANCHOR = re.compile(rb"\$.|.\^", re.DOTALL)
"""glibc's DFA lets a ``$`` followed by more pattern match before a newline
(``$.`` finds "\\n"), and a ``^`` after one; RE2 anchors at the text's ends
only.  A documented difference, left out of the random comparison."""


@pytest.fixture(autouse=True)
def c_locale() -> Iterator[None]:
    """glibc's regex follows LC_CTYPE, which Python set from the environment."""
    saved = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)


def glibc(pattern: bytes, text: bytes) -> bool | None:
    """regexec's verdict, or None when regcomp refuses the pattern."""
    compiled = ctypes.create_string_buffer(256)  # regex_t is 64 bytes on x86_64
    if _LIBC.regcomp(compiled, pattern, REG_EXTENDED | REG_NOSUB):
        return None
    try:
        return bool(_LIBC.regexec(compiled, text, 0, None, 0) == 0)
    finally:
        _LIBC.regfree(compiled)


def ours(pattern: bytes, text: bytes) -> bool | None:
    try:
        return compile_posix(decode(pattern)).search(decode(text))
    except PatternError:
        return None


CASES = [
    (rb"\n", b"n"),  # an escaped ordinary byte is itself, not a newline
    (rb"[\d]", b"\\"),  # a backslash in brackets is literal
    (rb"[\d]", b"1"),
    (rb"a)", b"a)"),  # an unmatched ) is literal
    (rb"a+?b", b"xb"),  # no lazy quantifier: (a+)?
    (rb"x$", b"x\n"),  # $ is the end of the text only
    (rb"a.b", b"a\nb"),  # . matches a newline
    (rb"[]a]", b"]"),
    (rb"[^]a]", b"\n"),
    (rb"\s", b"\x0b"),  # isspace includes \v
    (rb"[[:space:]]", b"\x0b"),
    (rb"(|a)b", b"b"),
    (rb"a**", b"aa"),
    (rb"[[.-.]]", b"-"),
    (rb"[[=a=]]", b"a"),
    (rb"\`a\'", b"a"),
    (rb"a$", b"a\n"),  # $ at the end: the end of the text, in glibc too
    (rb"\bx\b", b"a x b"),
    ("é.".encode(), "éé".encode()),  # bytes, not characters
    (rb"^.{4}$", "éé".encode()),
    (rb"x{2}{3}", b"xxxxxx"),
    (rb"a{,2}b", b"b"),
    (rb"^*a", b"a"),  # errors: glibc refuses them too
    (rb"a{1", b"a{1"),
    (rb"{1}", b"{1}"),
    (rb"a|*b", b"b"),
    (rb"[z-a]", b"a"),
    (rb"$*", b""),
    (rb"(", b"("),
    (rb"[[:nosuch:]]", b"a"),
    (rb"a\\", b"a\\"),
    (rb"a{3,2}", b"aaa"),
    (rb"a{40000}", b"a"),
    (rb"a{2,}b", b"aab"),
    (rb"[a-[:digit:]]", b"a"),
    (rb"[a-c]", b"b"),
    (rb"[%--]", b","),
    (rb"[[:alpha]]", b"a"),  # an unclosed [: is glibc's error too
]


@pytest.mark.parametrize(("pattern", "text"), CASES)
def test_known_cases_match_glibc(pattern: bytes, text: bytes) -> None:
    assert ours(pattern, text) == glibc(pattern, text)


@pytest.mark.parametrize(
    "pattern",
    [rb"(a)\1", rb"\<a", rb"a\>", rb"a{1001}", rb"[[.space.]]", rb"(((a{1000}){1000}){1000})"],
)
def test_what_re2_cannot_run_is_refused(pattern: bytes) -> None:
    with pytest.raises(PatternError):
        compile_posix(decode(pattern))


def test_nul_and_the_translation() -> None:
    with pytest.raises(PatternError, match="NUL"):
        translate("a\x00b")
    assert translate("a.b") == rb"\x61.\x62"


PATTERN_BYTES = st.sampled_from([*rb"ab.()|*+?{},12[]^$\-:wsB`=", ord("\n")])
TEXT_BYTES = st.sampled_from(list(b"ab-]\\{}\n1"))


@settings(max_examples=400, deadline=None)
@given(
    st.lists(PATTERN_BYTES, max_size=10).map(bytes),
    st.lists(TEXT_BYTES, max_size=8).map(bytes),
)
def test_random_patterns_match_as_glibc(pattern: bytes, text: bytes) -> None:
    assume(not _MID_ANCHOR.search(pattern))
    expected = glibc(pattern, text)
    got = ours(pattern, text)
    if got is None and expected is not None:
        assert _UNSUPPORTED.search(pattern), (pattern, text)
    else:
        assert got == expected, (pattern, text)
