"""Every Digest capture (``/arawman``, ``/amxml``, ``/amanager``) replayed.

As for rawman (tests/replay/test_rawman.py): each exchange is sent byte for
byte, except that the Digest nonce, opaque and response are rewritten for
the nonces the gateway issued (tests/support/replay_http.py), and compared after
masking; the nonces in ``WWW-Authenticate`` are numbered by first
appearance, so that the test sees which 401 repeats which nonce.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Final

import pytest

from tests.support.fixturedata import ajam_cases, read_http_fixture
from tests.support.httpmask import View
from tests.support.replay_checks import (
    SERVER_NAME_PAGE,
    Deviation,
    Expectations,
    Replays,
    server_name,
)

SCALE: Final = 0.25
NODE: Final = "t1"
"""The nonces, like session ids, must be ``<node><32 hex>``."""
MASK_FORMAT: Final = {"arawman": "rawman", "amxml": "mxml", "amanager": "manager"}
CASES: Final = {
    path: tuple(name for name in ajam_cases() if name.startswith(f"{path}_"))
    for path in MASK_FORMAT
}

REPLAY_REFUSED: Final = (
    "section 5, arawman_digest_stale: a replayed nonce count is refused with 401 stale=true and"
    " a new nonce (Asterisk accepts the first replay, because it records nc only from the"
    " second request of a session on)"
)


def replay_refused(view: View) -> View:
    """The 401 Asterisk itself gives on the second replay (exchange 4): stale, new nonce."""
    page = (
        b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\r\n<html><head>\r\n'
        b"<title>401 Unauthorized</title>\r\n</head><body>\r\n<h1>Unauthorized</h1>\r\n"
        b"<p></p>\r\n<hr />\r\n<address>Asterisk</address>\r\n</body></html>\r\n"
    )
    refused = dataclasses.replace(
        view,
        status=401,
        content_type="text/html; charset=utf-8",
        set_cookie=None,
        pragma=None,
        body=page,
        www_authenticate=(
            'Digest algorithm=MD5, realm="asterisk", nonce="<nonce2>", qop="auth",'
            ' opaque="<nonce2>", stale=true'
        ),
    )
    return server_name(refused)


def _unauthorized(case: str) -> list[int]:
    return [ex.number for ex in read_http_fixture(case) if ex.response.startswith(b"HTTP/1.1 401")]


DEVIATIONS: Final[Mapping[tuple[str, int], Deviation]] = {
    **{
        (case, number): Deviation(SERVER_NAME_PAGE, server_name, listed=False)
        for cases in CASES.values()
        for case in cases
        for number in _unauthorized(case)
    },
    ("arawman_digest_stale", 3): Deviation(REPLAY_REFUSED, replay_refused),
}
EXPECT: Final = {
    path: Expectations(fmt, {k: v for k, v in DEVIATIONS.items() if k[0] in CASES[path]}, {})
    for path, fmt in MASK_FORMAT.items()
}


DIGEST_REPLAYS: Final = {
    path: Replays(CASES[path], fmt=fmt, node_id=NODE, scale=SCALE)
    for path, fmt in MASK_FORMAT.items()
}
"""Each path's cases run together, once, when a test first asks."""


@pytest.mark.parametrize(
    ("path", "case", "number"),
    [
        (path, case, ex.number)
        for path, cases in CASES.items()
        for case in cases
        for ex in read_http_fixture(case)
    ],
    ids=lambda value: str(value),
)
def test_exchange_matches_the_capture(path: str, case: str, number: int) -> None:
    EXPECT[path].check_exchange(DIGEST_REPLAYS[path].get(case), case, number)


def test_every_capture_is_replayed() -> None:
    assert sum(len(cases) for cases in CASES.values()) == 8
    exchanges = {
        (c, ex.number) for cases in CASES.values() for c in cases for ex in read_http_fixture(c)
    }
    assert all(expect.refer_to(exchanges) for expect in EXPECT.values())
