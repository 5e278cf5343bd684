"""Secrets: plain, scrypt, PBKDF2, MD5 challenge, Digest HA1."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.access.credentials import (
    MIN_PBKDF2_ITERATIONS,
    check_ha1,
    digest_ha1_for,
    hash_secret,
    parse_hash,
    verify_md5_key,
    verify_secret,
)
from gateway.access.users import UserConfig
from gateway.ami.challenge import md5_key
from tests.support.fixturedata import ami_recv, ami_sent

SALT = bytes(range(16))
FAST = MIN_PBKDF2_ITERATIONS
"""PBKDF2 at its minimum keeps property tests quick."""


def test_scrypt_round_trip() -> None:
    stored = hash_secret("s3cret", salt=SALT)
    assert stored.startswith("scrypt$n=16384,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$")
    user = UserConfig(name="u", secret_hash=stored)
    assert verify_secret(user, "s3cret")
    assert not verify_secret(user, "s3cret ")


def test_hash_is_salted_randomly() -> None:
    assert hash_secret("x", method="pbkdf2_sha256", iterations=FAST) != hash_secret(
        "x", method="pbkdf2_sha256", iterations=FAST
    )


def test_pbkdf2_matches_hashlib() -> None:
    stored = hash_secret("pw", method="pbkdf2_sha256", salt=SALT, iterations=FAST)
    parsed = parse_hash(stored)
    assert parsed.iterations == FAST
    assert parsed.digest == hashlib.pbkdf2_hmac("sha256", b"pw", SALT, FAST, 32)


@settings(max_examples=25, deadline=None)
@given(secret=st.text(min_size=1, max_size=40), other=st.text(max_size=40))
def test_pbkdf2_round_trip(secret: str, other: str) -> None:
    user = UserConfig(
        name="u", secret_hash=hash_secret(secret, method="pbkdf2_sha256", iterations=FAST)
    )
    assert verify_secret(user, secret)
    assert verify_secret(user, other) is (other == secret)


@given(secret=st.text(max_size=30), other=st.text(max_size=30))
def test_plain_secret_compare(secret: str, other: str) -> None:
    user = UserConfig(name="u", secret=secret)
    assert verify_secret(user, other) is (other == secret)


def test_non_ascii_and_invalid_bytes_compare() -> None:
    user = UserConfig(name="u", secret="Пароль\udcff")
    assert verify_secret(user, "Пароль\udcff")
    assert not verify_secret(user, "Пароль")


def test_user_without_secret_never_verifies() -> None:
    user = UserConfig(name="u")
    assert not verify_secret(user, "")
    assert not verify_md5_key(user, "123", md5_key("123", ""))
    assert digest_ha1_for(user, "asterisk") is None


def test_broken_hash_never_verifies() -> None:
    assert not verify_secret(UserConfig(name="u", secret_hash="scrypt$bad"), "x")


@pytest.mark.parametrize(
    "text",
    [
        "md5$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$n=16384,r=8$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$n=1000,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$n=1048576,r=8,p=4$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$n=16384,r=8,p=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "pbkdf2_sha256$99$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "pbkdf2_sha256$x$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "pbkdf2_sha256$600000$AA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "pbkdf2_sha256$600000$!!!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "pbkdf2_sha256$600000$AAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "only-text",
    ],
)
def test_parse_hash_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_hash(text)


def test_md5_key_matches_the_capture() -> None:
    # ami/challenge_md5_login: Key = md5(challenge + "admin-secret"), lower-case hex.
    recv = ami_recv("challenge_md5_login").decode()
    sent = ami_sent("challenge_md5_login").decode()
    challenge = recv.split("Challenge: ", 1)[1].split("\r\n", 1)[0]
    key = sent.split("Key: ", 1)[1].split("\r\n", 1)[0]
    user = UserConfig(name="admin", secret="admin-secret")
    assert md5_key(challenge, "admin-secret") == key
    assert verify_md5_key(user, challenge, key)
    assert not verify_md5_key(user, challenge, key.upper())
    assert not verify_md5_key(user, "", key)
    assert not verify_md5_key(
        UserConfig(name="admin", secret_hash=hash_secret("x", salt=SALT)), challenge, key
    )


def test_digest_ha1() -> None:
    plain = UserConfig(name="ops", secret="pw")
    expected = hashlib.md5(b"ops:asterisk:pw").hexdigest()
    assert digest_ha1_for(plain, "asterisk") == expected
    assert (
        digest_ha1_for(plain, "asterisk", username="OPS")
        == hashlib.md5(b"OPS:asterisk:pw").hexdigest()
    )
    stored = UserConfig(name="ops", secret_hash=hash_secret("pw", salt=SALT), digest_ha1=expected)
    assert digest_ha1_for(stored, "asterisk") == expected


def test_check_ha1() -> None:
    assert check_ha1(" F12027A4CD4BD3C05BCA9CC6685D4224 ") == "f12027a4cd4bd3c05bca9cc6685d4224"
    with pytest.raises(ValueError, match="32 hexadecimal"):
        check_ha1("xyz")
