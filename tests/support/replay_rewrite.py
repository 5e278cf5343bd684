"""What a captured request could not know, rewritten before it is sent.

The session ids in ``Cookie:`` (a capture id seen in a ``Set-Cookie`` maps to
the id the gateway returned at the same point), the MD5 ``key=`` (recomputed
from the challenge the gateway issued), and a Digest ``Authorization``'s
nonce and response (the nonce mapped as the session ids are, the response
recomputed when the capture's is right for the user's known secret, left
wrong when it is wrong).  Nothing else changes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.ami.message import header
from tests.support.harness import TEST_USERS
from tests.support.httpmask import (
    COOKIE_ID,
    COOKIE_LINE,
    SET_COOKIE_ID,
    request_cookie_id,
    split_response,
)

_CHALLENGE = re.compile(
    rb"(?m)^Challenge: (\d+)\r$|challenge='(\d+)'|<td>Challenge</td><td>(\d+)</td>"
)
"""The MD5 challenge in a rawman, mxml or manager body."""
_KEY = re.compile(rb"([?&]key=)([0-9a-f]{32})")
_USERNAME = re.compile(rb"[?&]username=([^&\s]+)")
_AUTHORIZATION = re.compile(rb"(?im)^Authorization: Digest ([^\r\n]*)")
_DIGEST_PARAM = re.compile(rb'(\w+)=("[^"]*"|[^,\s]*)')
_NONCE = re.compile(r'\bnonce="([^"]*)"')


def set_cookie_id(raw_response: bytes) -> str | None:
    _, headers, _ = split_response(raw_response)
    value = header(headers, "Set-Cookie")
    match = SET_COOKIE_ID.match(value or "")
    return match.group(1) if match else None


def md5_key(challenge: bytes, secret: str) -> bytes:
    return hashlib.md5(challenge + secret.encode()).hexdigest().encode()


def challenge_of(raw_response: bytes) -> bytes | None:
    match = _CHALLENGE.search(raw_response)
    return next((group for group in match.groups() if group), None) if match else None


def www_nonce(raw_response: bytes) -> str | None:
    _, headers, _ = split_response(raw_response)
    match = _NONCE.search(header(headers, "WWW-Authenticate") or "")
    return match.group(1) if match else None


def _md5(*parts: bytes) -> bytes:
    return hashlib.md5(b":".join(parts)).hexdigest().encode()


def digest_response(method: bytes, params: Mapping[bytes, bytes], secret: str) -> bytes:
    """RFC 2617 (qop=auth) or RFC 2069, written out here from the RFCs."""
    ha1 = _md5(params[b"username"], params[b"realm"], secret.encode())
    ha2 = _md5(method, params[b"uri"])
    if b"qop" in params:
        return _md5(ha1, params[b"nonce"], params[b"nc"], params[b"cnonce"], b"auth", ha2)
    return _md5(ha1, params[b"nonce"], ha2)


def digest_params(line: bytes) -> dict[bytes, bytes]:
    return {m.group(1): m.group(2).strip(b'"') for m in _DIGEST_PARAM.finditer(line)}


@dataclass
class Rewriter:
    """Capture session ids and challenges to the gateway's."""

    ids: dict[str, str] = field(default_factory=dict)
    challenges: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)
    """capture id -> (challenge in the capture, challenge from the gateway)."""
    nonces: dict[str, str] = field(default_factory=dict)
    """Digest nonce in the capture -> the one the gateway gave at the same point."""

    def request(self, raw: bytes) -> bytes:
        head, sep, body = raw.partition(b"\r\n\r\n")
        head = COOKIE_LINE.sub(lambda m: COOKIE_ID.sub(self._cookie, m.group(1)), head)
        head = _AUTHORIZATION.sub(lambda m: self._digest(head, m), head)
        return self._key(raw, head + sep + body)

    def _digest(self, head: bytes, match: re.Match[bytes]) -> bytes:
        params = digest_params(match.group(1))
        theirs = params[b"nonce"].decode("latin-1")
        ours = self.nonces.get(theirs, theirs).encode("latin-1")
        method = head.split(b" ", 1)[0]
        user = TEST_USERS.get(params[b"username"].decode())
        right = (
            user is not None
            and digest_response(method, params, user["secret"]) == (params[b"response"])
        )
        line = match.group(0).replace(b'"' + params[b"nonce"] + b'"', b'"' + ours + b'"')
        if right and user is not None:
            params[b"nonce"] = ours
            answer = digest_response(method, params, user["secret"])
            line = line.replace(b'response="' + params[b"response"], b'response="' + answer)
        return line

    def _cookie(self, match: re.Match[bytes]) -> bytes:
        old = match.group(3).decode("latin-1")
        new = self.ids.get(old, old).encode("latin-1")
        return match.group(1) + match.group(2) + new

    def _key(self, captured: bytes, raw: bytes) -> bytes:
        cookie, key, user = request_cookie_id(captured), _KEY.search(raw), _USERNAME.search(raw)
        if cookie not in self.challenges or key is None or user is None:
            return raw
        theirs, ours = self.challenges[cookie]
        secret = TEST_USERS[user.group(1).decode()]["secret"]
        assert md5_key(theirs, secret) == key.group(2), "capture key is not md5(challenge+secret)"
        return _KEY.sub(lambda m: m.group(1) + md5_key(ours, secret), raw)

    def learn(self, captured: bytes, received: bytes) -> None:
        nonce_theirs, nonce_ours = www_nonce(captured), www_nonce(received)
        if nonce_theirs and nonce_ours:
            self.nonces.setdefault(nonce_theirs, nonce_ours)
        theirs, ours = set_cookie_id(captured), set_cookie_id(received)
        if theirs is None or ours is None:
            return
        self.ids[theirs] = ours
        challenge_theirs, challenge_ours = challenge_of(captured), challenge_of(received)
        if challenge_theirs and challenge_ours:
            self.challenges[theirs] = (challenge_theirs, challenge_ours)
