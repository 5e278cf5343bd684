"""HTTP Digest (RFC 2617 with ``qop=auth``, and RFC 2069), MD5 only: no I/O.

Parses an ``Authorization: Digest ...`` header, computes the answer a client
must give, and writes the ``WWW-Authenticate`` challenge in Asterisk's own
words (``/arawman``, ``/amxml``, ``/amanager``)::

    Digest algorithm=MD5, realm="asterisk", nonce="...", qop="auth", opaque="..."[, stale=true]

An RFC 2069 answer (no ``qop``, ``nc`` or ``cnonce``) counts as nonce count 1:
it can use its nonce once, which is all the replay protection it can have.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Final

from gateway.ami.message import encode

SCHEME: Final = "digest"
MAX_HEADER: Final = 4096
"""An Authorization header longer than this is no real client's: refused unparsed."""
REQUIRED: Final = ("username", "nonce", "uri", "response")
_PARAM: Final = re.compile(
    r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)', re.DOTALL
)
_NC: Final = re.compile(r"[0-9a-fA-F]{8}")
_HEX32: Final = re.compile(r"[0-9a-fA-F]{32}")
_UNESCAPE: Final = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class DigestAnswer:
    """A client's Digest credentials, as sent."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    qop: str | None = None
    nc_text: str = ""
    """The nonce count exactly as sent: it is hashed as text."""
    cnonce: str = ""
    opaque: str | None = None
    algorithm: str | None = None

    @property
    def nc(self) -> int:
        """The nonce count; an RFC 2069 answer (no qop) counts as 1."""
        return int(self.nc_text, 16) if self.qop else 1

    def __repr__(self) -> str:  # the response is a password equivalent for one request
        return f"DigestAnswer(username={self.username!r}, nonce={self.nonce!r}, nc={self.nc})"


@dataclass(frozen=True, slots=True)
class Malformed:
    """A Digest header that cannot be used; ``reason`` is for the log only."""

    reason: str


def _params(text: str) -> dict[str, str] | Malformed:
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _PARAM.match(text, pos)
        if match is None or match.end() == pos:
            return Malformed(f"cannot parse parameters at {text[pos : pos + 20]!r}")
        name = match.group(1).lower()
        if name in params:
            return Malformed(f"{name} given twice")
        quoted = match.group(2)
        params[name] = _UNESCAPE.sub(r"\1", quoted) if quoted is not None else match.group(3)
        pos = match.end()
    return params


def _answer(params: dict[str, str]) -> DigestAnswer | Malformed:
    missing = [name for name in REQUIRED if not params.get(name)]
    if missing:
        return Malformed(f"missing {', '.join(missing)}")
    algorithm = params.get("algorithm")
    if algorithm is not None and algorithm.lower() != "md5":
        return Malformed(f"algorithm {algorithm!r}: only MD5")
    qop = params.get("qop")
    if qop is not None:
        if qop.lower() != "auth":
            return Malformed(f"qop {qop!r}: only auth")
        if not _NC.fullmatch(params.get("nc", "")) or not params.get("cnonce"):
            return Malformed("qop=auth needs nc (8 hex digits) and cnonce")
    if not _HEX32.fullmatch(params["response"]):
        return Malformed("response is not 32 hex digits")
    return DigestAnswer(
        username=params["username"],
        realm=params.get("realm", ""),
        nonce=params["nonce"],
        uri=params["uri"],
        response=params["response"].lower(),
        qop=qop.lower() if qop is not None else None,
        nc_text=params.get("nc", "") if qop is not None else "",
        cnonce=params.get("cnonce", "") if qop is not None else "",
        opaque=params.get("opaque"),
        algorithm=algorithm,
    )


def parse_authorization(header: str | None) -> DigestAnswer | Malformed | None:
    """``Authorization`` to Digest credentials; None when it is not Digest at all."""
    if header is None:
        return None
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != SCHEME:
        return None
    if len(header) > MAX_HEADER:
        return Malformed("header too long")
    params = _params(rest.strip())
    return params if isinstance(params, Malformed) else _answer(params)


def md5_hex(text: str) -> str:
    return hashlib.md5(encode(text), usedforsecurity=False).hexdigest()


def expected_response(ha1: str, method: str, answer: DigestAnswer) -> str:
    """What the client must send: RFC 2617 with qop=auth, else RFC 2069."""
    ha2 = md5_hex(f"{method}:{answer.uri}")
    if answer.qop:
        return md5_hex(f"{ha1}:{answer.nonce}:{answer.nc_text}:{answer.cnonce}:auth:{ha2}")
    return md5_hex(f"{ha1}:{answer.nonce}:{ha2}")


def response_matches(ha1: str, method: str, answer: DigestAnswer) -> bool:
    return hmac.compare_digest(
        encode(expected_response(ha1, method, answer)), encode(answer.response)
    )


def challenge(realm: str, nonce: str, *, stale: bool = False) -> str:
    """The ``WWW-Authenticate`` value; opaque repeats the nonce, as Asterisk's does."""
    tail = ", stale=true" if stale else ""
    return (
        f'Digest algorithm=MD5, realm="{realm}", nonce="{nonce}", qop="auth",'
        f' opaque="{nonce}"{tail}'
    )
