"""Issue 11, item 7: anonymous requests must not fill the session table.

Before the fix every cookie-less request stored a session that counted
toward ``max_sessions``: 160 plain GETs from each of two addresses made an
admin's login fail with ``Too many sessions``.  Now a request that is not a
Login or a Challenge stores nothing: it still gets Asterisk's answer and a
``Set-Cookie`` with a fresh id (the captures' bytes), but the id names a
session that costs nothing until it logs in.  A Challenge needs a stored
session (its challenge must be spent once); those are capped per address
(``max_unauth_sessions_per_address``) and give way to a login when the
table is full.  Client addresses come from X-Forwarded-For, believed from a
trusted 127.0.0.1: every packet stays on loopback.
"""

from __future__ import annotations

from gateway.ami.challenge import md5_key
from gateway.app import GATEWAY
from gateway.simulator import Simulator
from tests.support.harness import COOKIE, Client, MakeClient, start

TRUSTED = {"trusted_proxies": ["127.0.0.1/32"]}
DENIED = "Response: Error\r\nMessage: Permission denied\r\n\r\n"
TOO_MANY = "Response: Error\r\nMessage: Too many sessions\r\n\r\n"


async def get(client: Client, address: str, query: str, session: str = "") -> tuple[str, str]:
    """(body, id in Set-Cookie or "")."""
    headers = {"X-Forwarded-For": address}
    if session:
        headers["Cookie"] = f'mansession_id="{session}"'
    client.session.cookie_jar.clear()
    response = await client.get(f"/asterisk/rawman?{query}", headers=headers)
    assert response.status == 200
    match = COOKIE.match(response.headers.get("Set-Cookie", ""))
    return await response.text(), match.group(1) if match else ""


ADMIN = "action=login&username=admin&secret=admin-secret"


async def test_plain_gets_from_two_addresses_store_nothing_and_admin_logs_in(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, http=TRUSTED, limits={"max_sessions": 300})
    sessions = client.app[GATEWAY].sessions
    ids = set()
    for address in ("192.0.2.1", "192.0.2.2"):
        for n in range(160):
            query = "action=ping" if n % 2 else f"action=waitevent&n={n}"
            body, cookie = await get(client, address, query)
            assert body == DENIED
            assert cookie  # the captures' Set-Cookie, as Asterisk sends it
            ids.add(cookie)
    assert len(ids) == 320
    assert len(sessions) == 0
    body, cookie = await get(client, "198.51.100.1", ADMIN)
    assert body == "Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
    assert len(sessions) == 1
    assert sessions.get(cookie, 0.0) is not None


async def test_an_anonymous_cookie_costs_nothing_and_a_login_on_it_works(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, http=TRUSTED)
    _, anonymous = await get(client, "192.0.2.1", "action=ping")
    assert client.app[GATEWAY].sessions.get(anonymous, 0.0) is None
    body, logged_in = await get(client, "192.0.2.1", ADMIN, anonymous)
    assert body.startswith("Response: Success")
    assert logged_in not in ("", anonymous)  # a new id at login, as always


async def test_challenges_are_capped_per_address_and_still_work(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    limits = {"max_unauth_sessions_per_address": 3}
    client = await start(simulator, aiohttp_client, http=TRUSTED, limits=limits)
    sessions = client.app[GATEWAY].sessions
    challenged = []
    for _ in range(3):
        body, cookie = await get(client, "192.0.2.1", "action=challenge&authtype=md5")
        challenged.append((body.split("Challenge: ")[1].split("\r\n")[0], cookie))
    body, _ = await get(client, "192.0.2.1", "action=challenge&authtype=md5")
    assert body == TOO_MANY
    assert (await get(client, "192.0.2.2", "action=challenge&authtype=md5"))[0].startswith(
        "Response: Success\r\nChallenge: "
    )
    assert len(sessions) == 4
    challenge, cookie = challenged[0]
    key = md5_key(challenge, "admin-secret")
    login = f"action=login&authtype=md5&username=admin&key={key}"
    body, _ = await get(client, "192.0.2.1", login, cookie)
    assert body == "Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
    body, _ = await get(client, "192.0.2.1", "action=challenge&authtype=md5")
    assert body.startswith("Response: Success")  # a logged-in session is not pending


async def test_pending_challenges_give_way_to_a_login(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    limits = {"max_sessions": 20, "max_unauth_sessions_per_address": 10}
    client = await start(simulator, aiohttp_client, http=TRUSTED, limits=limits)
    sessions = client.app[GATEWAY].sessions
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        for _ in range(10):
            await get(client, address, "action=challenge&authtype=md5")
    assert len(sessions) == 20  # full of pending challenges
    body, _ = await get(client, "198.51.100.1", ADMIN)
    assert body == "Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
    assert len(sessions) == 20
    assert sessions.authenticated_count() == 1
