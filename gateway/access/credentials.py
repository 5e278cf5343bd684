"""Users' secrets: plain, hashed (scrypt or PBKDF2-SHA256), MD5 challenge, Digest.

A plain ``secret`` works for every login style.  A ``secret_hash`` works for
a plain login and HTTP Basic only: the MD5 challenge needs the plain secret,
and HTTP Digest needs the plain secret or ``digest_ha1``.

Hash strings describe themselves, so parameters can change later without
breaking stored hashes::

    scrypt$n=16384,r=8,p=1$<salt>$<hash>
    pbkdf2_sha256$<iterations>$<salt>$<hash>

Salt and hash are base64 without padding.  Verifying costs tens of
milliseconds of CPU on purpose: callers on an event loop run it in a thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from gateway.ami.challenge import md5_key
from gateway.ami.message import encode

HashMethod = Literal["scrypt", "pbkdf2_sha256"]

SCRYPT_N: Final = 1 << 14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
"""scrypt defaults: about 16 MiB and 50 ms per login, RFC 7914's interactive level."""

PBKDF2_ITERATIONS: Final = 600_000
"""OWASP's 2023 figure for PBKDF2-HMAC-SHA256."""

SALT_BYTES: Final = 16
HASH_BYTES: Final = 32

MAX_SCRYPT_MEMORY: Final = 256 * 1024 * 1024
"""A stored hash may not ask for more memory than this per login."""
MAX_PBKDF2_ITERATIONS: Final = 10_000_000
"""Nor for more than about ten seconds of PBKDF2."""
MIN_PBKDF2_ITERATIONS: Final = 10_000
"""Below this a stolen config file is cheap to crack."""

_B64_RE: Final = re.compile(r"^[A-Za-z0-9+/]+$")
_HA1_RE: Final = re.compile(r"^[0-9a-f]{32}$")


class HasCredentials(Protocol):
    """What the checks need from a user (``gateway.access.users.UserConfig``)."""

    @property
    def name(self) -> str: ...
    @property
    def secret(self) -> str | None: ...
    @property
    def secret_hash(self) -> str | None: ...
    @property
    def digest_ha1(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ParsedHash:
    method: HashMethod
    salt: bytes
    digest: bytes
    n: int = 0
    r: int = 0
    p: int = 0
    iterations: int = 0

    def derive(self, secret: str) -> bytes:
        data = encode(secret)
        if self.method == "scrypt":
            memory = 128 * self.n * self.r * (self.p + 1)
            return hashlib.scrypt(
                data,
                salt=self.salt,
                n=self.n,
                r=self.r,
                p=self.p,
                maxmem=memory + 1024 * 1024,
                dklen=len(self.digest),
            )
        return hashlib.pbkdf2_hmac("sha256", data, self.salt, self.iterations, len(self.digest))


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str, what: str) -> bytes:
    if not _B64_RE.match(text):
        raise ValueError(f"{what} is not base64")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError(f"{what} is not base64") from exc


def parse_hash(text: str) -> ParsedHash:
    """A stored hash string to its parts; ``ValueError`` says what is wrong."""
    parts = text.split("$")
    if len(parts) != 4:
        raise ValueError(
            "expected 'scrypt$n=..,r=..,p=..$salt$hash' or 'pbkdf2_sha256$iter$salt$hash'"
        )
    method, params, salt_text, digest_text = parts
    salt = _b64decode(salt_text, "salt")
    digest = _b64decode(digest_text, "hash")
    if len(salt) < 8 or len(digest) < 16:
        raise ValueError("salt or hash too short")
    if method == "scrypt":
        return _parse_scrypt(params, salt, digest)
    if method == "pbkdf2_sha256":
        return _parse_pbkdf2(params, salt, digest)
    raise ValueError(f"unknown hash method {method!r} (scrypt or pbkdf2_sha256)")


def _parse_scrypt(params: str, salt: bytes, digest: bytes) -> ParsedHash:
    values: dict[str, int] = {}
    for item in params.split(","):
        key, _, value = item.partition("=")
        if key not in ("n", "r", "p") or not value.isdigit() or key in values:
            raise ValueError(f"bad scrypt parameters {params!r}")
        values[key] = int(value)
    if set(values) != {"n", "r", "p"}:
        raise ValueError(f"bad scrypt parameters {params!r}")
    n, r, p = values["n"], values["r"], values["p"]
    if n < 2 or n & (n - 1) or r < 1 or p < 1 or 128 * n * r * p > MAX_SCRYPT_MEMORY:
        raise ValueError(f"scrypt parameters out of range {params!r}")
    return ParsedHash("scrypt", salt, digest, n=n, r=r, p=p)


def _parse_pbkdf2(params: str, salt: bytes, digest: bytes) -> ParsedHash:
    if not params.isdigit():
        raise ValueError(f"bad PBKDF2 iteration count {params!r}")
    iterations = int(params)
    if not MIN_PBKDF2_ITERATIONS <= iterations <= MAX_PBKDF2_ITERATIONS:
        raise ValueError(
            f"PBKDF2 iterations must be {MIN_PBKDF2_ITERATIONS}..{MAX_PBKDF2_ITERATIONS}"
        )
    return ParsedHash("pbkdf2_sha256", salt, digest, iterations=iterations)


def hash_secret(
    secret: str,
    *,
    method: HashMethod = "scrypt",
    salt: bytes | None = None,
    iterations: int = PBKDF2_ITERATIONS,
) -> str:
    """A new ``secret_hash`` string for ``secret``; the salt is random by default."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    if method == "scrypt":
        parsed = ParsedHash("scrypt", salt, bytes(HASH_BYTES), n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
        params = f"n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}"
    else:
        parsed = ParsedHash("pbkdf2_sha256", salt, bytes(HASH_BYTES), iterations=iterations)
        params = str(iterations)
    digest = parsed.derive(secret)
    return f"{method}${params}${_b64encode(salt)}${_b64encode(digest)}"


def _same(a: str, b: str) -> bool:
    # compare_digest refuses non-ASCII str; bytes keep it constant-time for all.
    return hmac.compare_digest(encode(a), encode(b))


def verify_secret(user: HasCredentials, secret: str) -> bool:
    """A plain login (or HTTP Basic): the plain secret, else the hash."""
    if user.secret is not None:
        return _same(user.secret, secret)
    if user.secret_hash is not None:
        try:
            parsed = parse_hash(user.secret_hash)
        except ValueError:
            return False
        return hmac.compare_digest(parsed.derive(secret), parsed.digest)
    return False


def verify_md5_key(user: HasCredentials, challenge: str, key: str) -> bool:
    """``Login`` with ``AuthType: MD5``; impossible without the plain secret.

    The key is compared exactly, lower-case hex, as Asterisk's strcmp does.
    """
    if user.secret is None or not challenge or not key:
        return False
    return _same(md5_key(challenge, user.secret), key)


def digest_ha1_for(user: HasCredentials, realm: str, *, username: str | None = None) -> str | None:
    """HTTP Digest's HA1 = md5hex(username:realm:secret), or the stored ``digest_ha1``.

    ``username`` is the name the client hashed (defaults to the configured
    name).  A stored ``digest_ha1`` is bound to the configured name and realm.
    """
    if user.secret is not None:
        return digest_ha1(user.name if username is None else username, realm, user.secret)
    return user.digest_ha1


def digest_ha1(username: str, realm: str, secret: str) -> str:
    """md5hex("username:realm:secret"), RFC 2617's HA1, as ``digest_ha1`` stores it."""
    text = f"{username}:{realm}:{secret}"
    return hashlib.md5(encode(text), usedforsecurity=False).hexdigest()


def check_ha1(text: str) -> str:
    """A ``digest_ha1`` value normalised to lower-case hex; ``ValueError`` if not one."""
    value = text.strip().lower()
    if not _HA1_RE.match(value):
        raise ValueError("digest_ha1 must be 32 hexadecimal digits: md5(user:realm:secret)")
    return value
