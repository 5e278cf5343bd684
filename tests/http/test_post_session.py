"""Issue 11, item 9: a POST names its session in the query as a GET does.

docs/deployment.md tells cookie-less clients behind nginx to put ``mansession_id``
in the query, where nginx routes on it; a form body is not read by nginx.
Before the fix a POST with it there got ``Permission denied`` and a new
cookie.  The form body still replaces the query for every AMI field, as in
Asterisk (``generic_http_callback`` takes the POST variables instead of the
query's); only the session id, which is the gateway's own parameter, is
read from both: the cookie first, then the body, then the query.
"""

from __future__ import annotations

from gateway.simulator import Simulator
from tests.support.harness import COOKIE, Client, MakeClient, login, start

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def post(client: Client, path: str, body: str) -> tuple[str, str | None]:
    client.session.cookie_jar.clear()
    response = await client.post(path, data=body.encode(), headers=FORM)
    assert response.status == 200
    return await response.text(), response.headers.get("Set-Cookie")


def cookie_id(header: str | None) -> str | None:
    match = COOKIE.match(header or "")
    return match.group(1) if match else None


async def test_a_post_finds_its_session_in_the_query(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    for fmt in ("rawman", "json"):
        body, cookie = await post(client, f"/asterisk/{fmt}?mansession_id={session}", "action=ping")
        assert "Pong" in body, fmt
        assert cookie_id(cookie) == session  # the same session, not a new one
    assert simulator.received[-1].get("Action") == "ping"
    assert "mansession_id" not in {k.lower() for k, _ in simulator.received[-1].fields}


async def test_the_body_names_the_session_before_the_query(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    body, cookie = await post(
        client, "/asterisk/rawman?mansession_id=unknown", f"action=ping&mansession_id={session}"
    )
    assert "Pong" in body
    assert cookie_id(cookie) == session


async def test_the_form_still_replaces_the_query_for_ami_fields(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    sent = len(simulator.received)
    query = "action=originate&channel=Local/600@test&application=Wait&data=1"
    body, _ = await post(
        client, f"/asterisk/rawman?{query}&mansession_id={session}", "action=ping&actionid=p1"
    )
    assert body.startswith("Response: Success\r\nActionID: p1\r\nPing: Pong")
    actions = [m.get("Action") for m in simulator.received[sent:]]
    assert actions == ["ping"]
    assert simulator.received[-1].get("Channel") is None


async def test_a_cookie_still_comes_first(simulator: Simulator, aiohttp_client: MakeClient) -> None:
    client = await start(simulator, aiohttp_client)
    admin = await login(client)
    reader = await login(client, "reader")
    client.session.cookie_jar.clear()
    response = await client.post(
        f"/asterisk/rawman?mansession_id={reader}",
        data=b"action=originate&channel=Local/600@test&application=Wait&data=1",
        headers={**FORM, "Cookie": f'mansession_id="{admin}"'},
    )
    assert cookie_id(response.headers.get("Set-Cookie")) == admin
    assert "Originate successfully queued" in await response.text()
