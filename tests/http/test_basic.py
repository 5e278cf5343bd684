from __future__ import annotations

import base64

import pytest

from gateway.errors import BadCredentials
from gateway.http.basic import MAX_TOKEN, BasicCredentials, parse_basic


def _basic(raw: bytes, scheme: str = "Basic") -> str:
    return f"{scheme} {base64.b64encode(raw).decode()}"


def test_user_and_password_split_at_the_first_colon() -> None:
    assert parse_basic(_basic(b"admin:a:b")) == BasicCredentials("admin", "a:b")
    assert parse_basic(_basic(b"admin:", "BASIC")) == BasicCredentials("admin", "")
    assert parse_basic("  basic   " + base64.b64encode(b"u:p").decode() + " ") == (
        BasicCredentials("u", "p")
    )


def test_utf8_credentials_and_invalid_bytes_survive() -> None:
    creds = parse_basic(_basic("оператор:пароль".encode()))
    assert creds == BasicCredentials("оператор", "пароль")
    odd = parse_basic(_basic(b"u:\xff"))
    assert odd is not None
    assert odd.password.encode("utf-8", "surrogateescape") == b"\xff"


def test_other_schemes_and_no_header_are_not_ours() -> None:
    assert parse_basic(None) is None
    assert parse_basic('Digest username="admin", nonce="x"') is None
    assert parse_basic("Bearer abc") is None


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic ",
        "Basic !!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b":nouser").decode(),
        "Basic " + "A" * (MAX_TOKEN + 4),
    ],
)
def test_broken_basic_is_refused_not_ignored(header: str) -> None:
    with pytest.raises(BadCredentials):
        parse_basic(header)


def test_repr_hides_the_password() -> None:
    assert "s3cret" not in repr(BasicCredentials("u", "s3cret"))
