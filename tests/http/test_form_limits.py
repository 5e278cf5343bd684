"""Issue 11, item 8: form parsing is bounded before authentication.

A 1 MiB body of ``a&a&…`` (524,288 fields) cost 0.35 s of the event loop
before anyone logged in; AMI keeps 128 lines of an action, so parsing now
stops past them with ``Request too large for AMI``, and a field too long for
AMI's 1024-byte line is refused before it is decoded.  Work is counted here
(decodes), never timed: ``bench/form_bench.py`` measures the CPU, and
``tests/e2e/hostile/test_under_attack.py`` holds the bound on a logged-in Ping
while three clients flood fields.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.ami.codec import MAX_ACTION_LINE, MAX_ACTION_LINES
from gateway.ami.message import Field, decode
from gateway.errors import RequestTooLarge
from gateway.http import params
from gateway.http.params import MAX_FIELD_BYTES, MAX_FORM_FIELDS, parse_form, unquote
from gateway.simulator import Simulator
from tests.support.harness import MakeClient, basic, login, start

MIB = 1 << 20
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TOO_LARGE = "Response: Error\r\nMessage: Request too large for AMI\r\n\r\n"


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every name and value ``parse_form`` decodes."""
    seen: list[bytes] = []
    real = params.unquote

    def counting(raw: bytes) -> bytes:
        seen.append(raw)
        return real(raw)

    monkeypatch.setattr(params, "unquote", counting)
    return seen


def test_a_mebibyte_of_empty_fields_stops_past_the_ami_limit(decodes: list[bytes]) -> None:
    with pytest.raises(RequestTooLarge):
        parse_form(b"a&" * (MIB // 2))
    assert len(decodes) <= 2 * MAX_FORM_FIELDS  # a name and a value each, not 524,288


def test_a_field_too_long_for_an_ami_line_is_refused_before_it_is_decoded(
    decodes: list[bytes],
) -> None:
    with pytest.raises(RequestTooLarge):
        parse_form(b"action=ping&a=" + b"%41" * (MIB // 3 - 10))
    assert len(decodes) == 2  # action=ping only


def test_separators_alone_cost_no_field() -> None:
    assert parse_form(b"&" * MIB + b"action=ping&&") == [("action", "ping")]


def test_what_ami_accepts_still_parses() -> None:
    """128 lines plus the mansession_id that is never forwarded; a field
    whose encoded form is three times a full AMI line."""
    fields = b"&".join(b"h%d=v" % n for n in range(MAX_ACTION_LINES))
    assert len(parse_form(fields + b"&mansession_id=x")) == MAX_FORM_FIELDS
    with pytest.raises(RequestTooLarge):
        parse_form(fields + b"&mansession_id=x&one=more")
    longest = b"a=" + b"%41" * ((MAX_FIELD_BYTES - 2) // 3)
    assert len(longest) <= MAX_FIELD_BYTES
    assert parse_form(longest) == [("a", "A" * ((MAX_FIELD_BYTES - 2) // 3))]
    assert 3 * (MAX_ACTION_LINE - len(": \r\n")) <= MAX_FIELD_BYTES


def plain_split(raw: bytes) -> list[Field]:
    """What parse_form did before it had limits."""
    return [
        (decode(unquote(name)), decode(unquote(value)))
        for name, _, value in (part.partition(b"=") for part in raw.split(b"&") if part)
    ]


PARTS = st.lists(
    st.tuples(
        st.integers(0, 3),  # '&' before the field
        st.sampled_from([b"", b"a", b"a=1", b"x=%41", b"k=" + b"v" * MAX_FIELD_BYTES]),
    ),
    max_size=MAX_FORM_FIELDS + 40,
)


@settings(max_examples=300)
@given(PARTS, st.integers(0, 3))
def test_within_the_limits_it_is_the_plain_split_and_beyond_them_too_large(
    parts: list[tuple[int, bytes]], trailing: int
) -> None:
    raw = b"".join(b"&" * n + field for n, field in parts) + b"&" * trailing
    fields = [part for part in raw.split(b"&") if part]
    if len(fields) > MAX_FORM_FIELDS or any(len(f) > MAX_FIELD_BYTES for f in fields):
        with pytest.raises(RequestTooLarge):
            parse_form(raw)
    else:
        assert parse_form(raw) == plain_split(raw)


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_an_anonymous_flood_of_fields_is_answered_too_large(
    simulator: Simulator, aiohttp_client: MakeClient, method: str
) -> None:
    client = await start(simulator, aiohttp_client)
    before = len(simulator.received)
    if method == "GET":
        response = await client.get("/asterisk/rawman?" + "a&" * 32767)
    else:
        response = await client.post(
            "/asterisk/rawman",
            data=b"a&" * (MIB // 2),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status == 200
    assert await response.text() == TOO_LARGE
    assert "Set-Cookie" not in response.headers  # no session was made for it
    assert len(simulator.received) == before  # nothing reached Asterisk


async def test_a_session_keeps_its_cookie_and_digest_paths_get_none(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    client.session.cookie_jar.clear()
    flood = "a&" * 200
    mine = await client.get(
        f"/asterisk/rawman?{flood}", headers={"Cookie": f'mansession_id="{session}"'}
    )
    assert await mine.text() == TOO_LARGE
    assert session in mine.headers["Set-Cookie"]  # as every answer on a session
    digest = await client.get(f"/asterisk/arawman?{flood}")
    assert await digest.text() == TOO_LARGE
    assert "Set-Cookie" not in digest.headers


async def test_a_history_form_of_too_many_fields_is_refused_naming_the_body(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, history={"enabled": True, "path": ":memory:"})
    response = await client.post(
        "/asterisk/history",
        data=b"a&" * 30_000,
        headers={"Content-Type": "application/x-www-form-urlencoded", **basic("admin")},
    )
    assert response.status == 400
    assert await response.json() == {"error": "too many parameters", "field": "body"}


async def test_a_history_body_is_small_before_anyone_is_known(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    """1 MiB of JSON cost ~20 ms to parse, before authentication: a lookup
    is a few hundred bytes, so its body may be 64 KiB."""
    client = await start(simulator, aiohttp_client, history={"enabled": True, "path": ":memory:"})
    keys = b",".join(b'"k%d":1' % n for n in range(10_000))
    assert 64 * 1024 < len(keys) < MIB
    response = await client.post(
        "/asterisk/history", data=b"{" + keys + b"}", headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    answer = await client.post(
        "/asterisk/history",
        data=b'{"number": "100", "pad": "' + b"x" * 60_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 401  # read and parsed, then refused: nobody logged in
