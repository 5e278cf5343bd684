"""Asterisk's MD5 challenge login, the one piece of account arithmetic AMI has.

``Action: Challenge`` hands out a challenge; ``Action: Login`` with
``AuthType: MD5`` answers it with ``Key: md5hex(challenge + secret)``, so the
secret never crosses the wire.  The gateway's AMI client answers Asterisk's
challenges with it, the gateway checks its own users' keys with it
(``gateway.access.credentials``) and the simulator checks the gateway's.
"""

from __future__ import annotations

import hashlib

from gateway.ami.message import encode


def md5_key(challenge: str, secret: str) -> str:
    """Asterisk's MD5 challenge answer: md5hex(challenge + secret)."""
    return hashlib.md5(encode(challenge + secret), usedforsecurity=False).hexdigest()
