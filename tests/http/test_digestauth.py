"""HTTP Digest end to end: /arawman, /amxml, /amanager against the simulator."""

from __future__ import annotations

import asyncio
import hashlib

from aiohttp import ClientResponse

from gateway.app import GATEWAY
from gateway.simulator import Simulator
from tests.support.digestclient import (
    CHALLENGE,
    NONCE,
    PING,
    PONG,
    Digest,
    begin,
    security_events,
)
from tests.support.harness import MakeClient
from tests.support.replay_rewrite import digest_params

HA1_OPS = hashlib.md5(b"ops:asterisk:ops-secret").hexdigest()
HASHED = "pbkdf2_sha256$10000$c2FsdHNhbHRzYWx0$2ICDrkrs6m6m5T4rY1YCWlhJHyOLHgd7tePPLQhlK1c"


def stale(response: ClientResponse) -> bool:
    """A 401 whose challenge says the credentials were right but the nonce not."""
    challenge = response.headers.get("WWW-Authenticate", "")
    return response.status == 401 and challenge.endswith(", stale=true")


async def test_no_credentials_get_asterisks_401(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client)
    response = await client.get(PING)
    assert response.status == 401
    match = CHALLENGE.match(response.headers["WWW-Authenticate"])
    assert match is not None
    assert match.group(2) is None
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache, no-store"
    assert "Set-Cookie" not in response.headers
    assert "<title>401 Unauthorized</title>" in await response.text()
    again = await client.get(PING)
    assert NONCE.search(again.headers["WWW-Authenticate"]) != match


async def test_a_session_per_nonce_no_cookie_and_counts_must_grow(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client)
    digest = Digest(client)
    await digest.login()
    sessions = client.app[GATEWAY].sessions
    assert len(sessions) == 1
    response = await digest.get("/asterisk/arawman?action=command&command=core")
    assert "Set-Cookie" not in response.headers
    assert "Pragma" not in response.headers
    first_nonce = digest.nonce
    replay = await digest.get(nc=2)
    assert stale(replay)
    assert digest.nonce != first_nonce
    assert (await (await digest.get()).text()).startswith(PONG)
    assert len(sessions) == 1  # the same session under the new nonce
    digest.nonce, digest.nc = first_nonce, 10
    old = await digest.get()
    assert stale(old)
    assert len(sessions) == 1
    assert security_events(client) == ["SuccessfulAuth"]


async def test_events_reach_the_digest_session(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client)
    digest = Digest(client)
    await digest.login()
    empty = await digest.get("/asterisk/arawman?action=waitevent&timeout=0")
    assert await empty.text() == (
        "Response: Success\r\nMessage: Waiting for Event completed.\r\n\r\n"
        "Event: WaitEventComplete\r\n\r\n"
    )
    await digest.get("/asterisk/arawman?action=userevent&userevent=Hello")
    events = await digest.get("/asterisk/arawman?action=waitevent&timeout=5")
    assert "UserEvent: Hello\r\n" in await events.text()


async def test_a_nonce_goes_stale_after_its_lifetime(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client, http={"digest_nonce_lifetime": 1})
    digest = Digest(client)
    await digest.login()
    await asyncio.sleep(1.2)
    late = await digest.get()
    assert stale(late)
    assert (await digest.get()).status == 200
    assert len(client.app[GATEWAY].sessions) == 1


async def test_an_unused_nonce_goes_stale_too(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client, http={"digest_nonce_lifetime": 1})
    digest = Digest(client)
    assert (await digest.get()).status == 401
    await asyncio.sleep(1.2)
    late = await digest.get()
    assert stale(late)
    assert len(client.app[GATEWAY].sessions) == 0


async def test_rfc2069_uses_its_nonce_once(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client)
    digest = Digest(client)
    await digest.get()
    assert (await digest.get(qop=False)).status == 200
    again = await digest.get(qop=False)
    assert stale(again)
    assert (await digest.get(qop=False)).status == 200
    assert len(client.app[GATEWAY].sessions) == 1


async def test_made_up_and_foreign_nonces_are_stale(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client)
    digest = Digest(client)
    digest.nonce = "t1" + "0" * 32
    made_up = await digest.get()
    assert stale(made_up)
    assert (await digest.get()).status == 200
    reader = Digest(client, "reader", "reader-secret")
    reader.nonce, reader.nc = digest.nonce, 5
    foreign = await reader.get()
    assert stale(foreign)
    assert reader.nonce != digest.nonce
    assert (await reader.get()).status == 200
    assert len(client.app[GATEWAY].sessions) == 2


async def test_wrong_credentials_take_the_failed_login_path(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client, limits={"login_fail_delay": 0.2})
    digest = Digest(client, "admin", "wrong")
    await digest.get()
    loop = asyncio.get_running_loop()
    began = loop.time()
    refused = await digest.get()
    assert loop.time() - began >= 0.2
    assert refused.status == 401
    assert not refused.headers["WWW-Authenticate"].endswith(", stale=true")
    nobody = Digest(client, "nobody", "x")
    nobody.nonce = digest.nonce
    assert (await nobody.get()).status == 401
    assert security_events(client) == ["ChallengeResponseFailed", "InvalidAccountID"]
    assert client.app[GATEWAY].security.failures == 2
    assert len(client.app[GATEWAY].sessions) == 0


async def test_secret_hash_alone_cannot_do_digest_but_digest_ha1_can(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    users = {
        "hashed": {"secret_hash": HASHED, "read": "all", "write": "all"},
        "ops": {"secret_hash": HASHED, "digest_ha1": HA1_OPS, "read": "all", "write": "all"},
    }
    client = await begin(simulator, aiohttp_client, users=users)
    hashed = Digest(client, "hashed", "saltsalt")
    await hashed.get()
    assert (await hashed.get()).status == 401
    assert security_events(client) == ["ChallengeResponseFailed"]
    ops = Digest(client, "ops", "ops-secret")
    await ops.login()


async def test_a_digest_user_has_exactly_its_rights(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client)
    reader = Digest(client, "reader", "reader-secret")
    await reader.login()
    sent = len(simulator.received)
    uri = "/asterisk/arawman?action=originate&channel=Local/100@test&application=Wait&data=1"
    denied = await reader.get(uri)
    assert await denied.text() == "Response: Error\r\nMessage: Permission denied\r\n\r\n"
    assert len(simulator.received) == sent


async def test_the_acl_and_max_sessions_apply(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    users = {
        "far": {"secret": "far-secret", "read": "all", "write": "all", "permit": "10.0.0.0/8"},
        "one": {"secret": "one-secret", "read": "all", "write": "all", "max_sessions": 1},
    }
    client = await begin(simulator, aiohttp_client, users=users)
    far = Digest(client, "far", "far-secret")
    await far.get()
    assert (await far.get()).status == 401
    first = Digest(client, "one", "one-secret")
    await first.login()
    second = Digest(client, "one", "one-secret")
    await second.get()
    assert (await second.get()).status == 401
    assert (await first.get()).status == 200
    assert security_events(client) == ["FailedACL", "SuccessfulAuth", "SessionLimit"]


async def test_logoff_ends_the_session_and_its_nonce(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client)
    digest = Digest(client)
    await digest.login()
    bye = await digest.get("/asterisk/arawman?action=logoff")
    assert (await bye.text()).startswith("Response: Goodbye")
    after = await digest.get()
    assert stale(after)
    assert (await digest.get()).status == 200
    assert security_events(client) == ["SuccessfulAuth", "SuccessfulAuth"]


async def test_the_uri_must_be_the_requests_own(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client)
    digest = Digest(client)
    await digest.get()
    header = digest.header("/asterisk/arawman?action=command&command=core")
    response = await client.get(PING, headers={"Authorization": header})
    assert response.status == 400
    assert "Digest uri does not match the request" in await response.text()


async def test_malformed_and_other_schemes_get_a_challenge(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client)
    for header in ('Digest username="admin"', "Basic YWRtaW46YWRtaW4tc2VjcmV0"):
        response = await client.get(PING, headers={"Authorization": header})
        assert response.status == 401
        assert CHALLENGE.match(response.headers["WWW-Authenticate"])
    assert security_events(client) == []


async def test_amxml_and_amanager_render_and_post_works(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client)
    digest = Digest(client)
    await digest.login()
    xml = await digest.get("/asterisk/amxml?action=ping&ajaxdest=d1")
    assert xml.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert "<response type='object' id='d1'><generic response='Success' ping='Pong'" in (
        await xml.text()
    )
    page = await digest.get("/asterisk/AMANAGER/?action=ping")
    assert "<tr><td>Ping</td><td>Pong</td></tr>" in await page.text()
    uri = "/asterisk/arawman"
    headers = {
        "Authorization": digest.header(uri, method="POST"),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    posted = await client.post(uri, data=b"action=ping", headers=headers)
    assert (await posted.text()).startswith(PONG)


async def test_a_digest_session_ignores_cookies(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await begin(simulator, aiohttp_client)
    response = await client.get(PING, headers={"Cookie": 'mansession_id="t1' + "a" * 32 + '"'})
    assert response.status == 401
    params = digest_params(b"x " + response.headers["WWW-Authenticate"].encode())
    assert params[b"nonce"] == params[b"opaque"]
