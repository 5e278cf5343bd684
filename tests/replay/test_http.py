"""The replay helpers (tests/support/replay_http.py, tests/support/httpmask.py): timing lines,
rewriting, masking per format."""

from __future__ import annotations

import hashlib

import pytest

from tests.support.fixturedata import read_http_fixture
from tests.support.httpmask import ASTERISK_ID, ViewMaker, gateway_id
from tests.support.replay_http import load_steps
from tests.support.replay_rewrite import Rewriter


def test_timing_lines_give_connection_times_and_the_open_notes() -> None:
    steps = load_steps("http_keepalive")
    assert [(s.conn, s.t_sent, s.server_closed) for s in steps] == [
        (1, 0.0, False),
        (1, 0.001, False),
        (1, 0.502, True),
    ]
    assert [s.open_after for s in steps] == [None, 0.5, None]


@pytest.mark.parametrize(
    ("case", "masked"),
    [
        ("rawman_ping", b"Response: Success\r\nPing: Pong\r\nTimestamp: *\r\n\r\n"),
        ("mxml_ping", b"<generic response='Success' ping='Pong' timestamp='*' />"),
        ("manager_ping", b"<tr><td>Timestamp</td><td>*</td></tr>"),
    ],
)
def test_timestamp_is_masked_in_every_format(case: str, masked: bytes) -> None:
    exchange = read_http_fixture(case)[1]
    view = ViewMaker(case.split("_")[0], ASTERISK_ID)(exchange.response, exchange.request)
    assert masked in view.body
    assert view.content_length == "<masked>"
    raw_body = exchange.response.partition(b"\r\n\r\n")[2]
    assert len(view.body) < len(raw_body)  # only the timestamp's digits went


def test_uniqueids_and_local_sequences_are_numbered_by_first_appearance() -> None:
    maker = ViewMaker("rawman", ASTERISK_ID)
    body = (
        b"Channel: Local/100@test-0000002c;1\r\nUniqueid: 1795771500.12\r\n"
        b"Linkedid: 1795771500.12\r\nRemoteAddress: IPV4/TCP/127.0.0.1/42974\r\n"
        b"DestUniqueid: 1795771500.13\r\nCallerIDNum: 1795771500.12\r\n"
    )
    assert maker.body(body) == (
        b"Channel: Local/100@test-L1;1\r\nUniqueid: U1\r\nLinkedid: U1\r\n"
        b"RemoteAddress: IPV4/TCP/127.0.0.1/*\r\nDestUniqueid: U2\r\n"
        b"CallerIDNum: 1795771500.12\r\n"
    )


def test_cookie_labels_tell_same_new_and_seen_apart() -> None:
    maker = ViewMaker("rawman", gateway_id("t1"))
    first, second = "t1" + "a" * 32, "t1" + "b" * 32
    form = "; Version=1; Max-Age=60"
    assert maker.cookie(f'mansession_id="{first}"{form}', None) == f'mansession_id="<new>"{form}'
    assert maker.cookie(f'mansession_id="{first}"{form}', first) == f'mansession_id="<same>"{form}'
    assert maker.cookie(f'mansession_id="{first}"{form}', second) == f'mansession_id="<seen>"{form}'
    assert maker.cookie('mansession_id="deadbeef"', None) == 'mansession_id="<malformed deadbeef>"'


def test_rewriter_maps_cookies_in_every_header_position_and_recomputes_md5_keys() -> None:
    challenge, login = read_http_fixture("rawman_challenge_md5_login")[:2]
    rewriter = Rewriter()
    ours = b'Set-Cookie: mansession_id="t1' + b"c" * 32 + b'"\r\n\r\nChallenge: 42\r\n\r\n'
    rewriter.learn(challenge.response, b"HTTP/1.1 200 OK\r\n" + ours)
    sent = rewriter.request(login.request)
    key = hashlib.md5(b"42admin-secret").hexdigest().encode()
    assert f'mansession_id="t1{"c" * 32}"'.encode() in sent
    assert b"key=" + key + b" HTTP/1.1" in sent
    post = read_http_fixture("rawman_post_form_login")[1].request
    rewriter.ids[post.split(b'mansession_id="')[1][:8].decode()] = "t1" + "d" * 32
    assert b"t1" + b"d" * 32 in rewriter.request(post)  # Cookie is not the last header there
