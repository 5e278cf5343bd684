"""The Digest header parser and answer maths, against the RFCs and Asterisk's captures."""

from __future__ import annotations

import pytest

from gateway.http.digest import (
    MAX_HEADER,
    DigestAnswer,
    Malformed,
    challenge,
    expected_response,
    parse_authorization,
    response_matches,
)
from gateway.http.digest import md5_hex as md5
from tests.support.fixturedata import read_http_fixture

RFC2617 = (
    'Digest username="Mufasa", realm="testrealm@host.com",'
    ' nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth,'
    ' nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1",'
    ' opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)
"""RFC 2617 section 3.5's example; the password is "Circle Of Life"."""


def answer(header: str) -> DigestAnswer:
    parsed = parse_authorization(header)
    assert isinstance(parsed, DigestAnswer), parsed
    return parsed


def test_rfc2617_example() -> None:
    parsed = answer(RFC2617)
    assert parsed.username == "Mufasa"
    assert parsed.realm == "testrealm@host.com"
    assert (parsed.qop, parsed.nc, parsed.nc_text, parsed.cnonce) == (
        "auth",
        1,
        "00000001",
        "0a4f113b",
    )
    assert parsed.opaque == "5ccc069c403ebaf9f0171e9517f40e41"
    ha1 = md5("Mufasa:testrealm@host.com:Circle Of Life")
    assert expected_response(ha1, "GET", parsed) == "6629fae49393a05397450978507c4ef1"
    assert response_matches(ha1, "GET", parsed)
    assert not response_matches(ha1, "POST", parsed)
    assert not response_matches(md5("Mufasa:testrealm@host.com:circle of life"), "GET", parsed)


def authorizations(case: str) -> list[tuple[str, DigestAnswer]]:
    out = []
    for exchange in read_http_fixture(case):
        for name, value in exchange.request_headers:
            if name.lower() == "authorization":
                out.append((exchange.method, answer(value)))
    return out


@pytest.mark.parametrize("case", ["arawman_digest_ok", "amxml_digest_ok", "amanager_digest_ok"])
def test_every_answer_asterisk_accepted_is_right(case: str) -> None:
    ha1 = md5("admin:asterisk:admin-secret")
    answers = authorizations(case)
    assert [a.nc for _, a in answers] == [1, 2, 3]
    assert all(response_matches(ha1, method, a) for method, a in answers)


def test_rfc2069_answer_from_the_capture() -> None:
    answers = authorizations("arawman_digest_bad_and_rfc2069")
    wrong, unknown, rfc2069 = (a for _, a in answers)
    ha1 = md5("admin:asterisk:admin-secret")
    assert (rfc2069.qop, rfc2069.nc, rfc2069.cnonce) == (None, 1, "")
    assert response_matches(ha1, "GET", rfc2069)
    assert not response_matches(ha1, "GET", wrong)
    assert unknown.username == "nobody"


def test_rfc2069_by_hand() -> None:
    header = 'Digest username="u", realm="r", nonce="n", uri="/x", response="' + "0" * 32 + '"'
    parsed = answer(header)
    ha1 = md5("u:r:p")
    assert expected_response(ha1, "GET", parsed) == md5(f"{ha1}:n:{md5('GET:/x')}")


def test_quoting_case_and_spaces() -> None:
    header = (
        'digest  USERNAME = "a\\"b" ,realm="", Nonce=abc, uri="/p?x=1,2",'
        ' response="ABCDEF0123456789ABCDEF0123456789", QOP="AUTH", nc=0000000a, cnonce=c'
    )
    parsed = answer(header)
    assert parsed.username == 'a"b'
    assert parsed.nonce == "abc"
    assert parsed.uri == "/p?x=1,2"
    assert parsed.response == "abcdef0123456789abcdef0123456789"
    assert (parsed.qop, parsed.nc) == ("auth", 10)


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Bearer x", ""])
def test_other_schemes_are_not_digest(header: str | None) -> None:
    assert parse_authorization(header) is None


GOOD = 'username="u", realm="r", nonce="n", uri="/x", response="' + "a" * 32 + '"'


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ('realm="r", nonce="n", uri="/x", response="' + "a" * 32 + '"', "missing username"),
        ('username="u", realm="r", uri="/x"', "missing nonce, response"),
        (GOOD + ", algorithm=SHA-256", "only MD5"),
        (GOOD + ", qop=auth-int, nc=00000001, cnonce=x", "only auth"),
        (GOOD + ", qop=auth, cnonce=x", "needs nc"),
        (GOOD + ", qop=auth, nc=1, cnonce=x", "needs nc"),
        (GOOD + ", qop=auth, nc=00000001", "needs nc"),
        (GOOD + ', username="v"', "username given twice"),
        ('username="u", realm="r", nonce="n", uri="/x", response="xyz"', "not 32 hex"),
        ('username="u" realm="r"', "cannot parse"),
        ('username="unterminated', "cannot parse"),
    ],
)
def test_malformed_headers_say_why(params: str, reason: str) -> None:
    parsed = parse_authorization("Digest " + params)
    assert isinstance(parsed, Malformed)
    assert reason in parsed.reason


def test_md5_explicitly_named_is_fine() -> None:
    assert answer("Digest " + GOOD + ", algorithm=md5").algorithm == "md5"


def test_huge_header_is_refused_unparsed() -> None:
    parsed = parse_authorization("Digest " + GOOD + ", x=" + "a" * MAX_HEADER)
    assert isinstance(parsed, Malformed)
    assert parsed.reason == "header too long"


def test_repr_hides_the_response() -> None:
    text = repr(answer("Digest " + GOOD))
    assert "a" * 32 not in text
    assert "username='u'" in text


def test_challenge_is_asterisks_wording() -> None:
    fixture = read_http_fixture("arawman_digest_stale")
    captured = fixture[3].parsed_response()
    assert captured is not None
    assert challenge("asterisk", "181dc0fa", stale=True) == captured.header("WWW-Authenticate")
    first = fixture[0].parsed_response()
    assert first is not None
    assert challenge("asterisk", "22a4a7d3") == first.header("WWW-Authenticate")
