"""A reader-only user (read=call,system, write=none) cannot originate, run
Command, or see ``security`` or ``cdr`` events, by any route.

Routes covered: /rawman, /mxml, /manager, /json, with the session in the
cookie, in ``mansession_id``, through HTTP Basic (one-shot, and Basic with
the session it opened), and Digest on /arawman, /amxml, /amanager.
"""

from __future__ import annotations

import pytest

from gateway.ami.message import Message
from gateway.app import GATEWAY
from gateway.simulator import Simulator
from tests.support.digestclient import Digest, begin
from tests.support.harness import Client, MakeClient, basic, start

ROUTES = ("rawman", "mxml", "manager", "json")
FORBIDDEN = (
    "action=originate&channel=Local/100@test&application=Wait&data=1",
    "action=originate&channel=Local/100@test&application=System&data=id&async=true",
    "action=Originate&Channel=Local/100@test&Exten=100&Context=test&Priority=1",
    "action=command&command=core%20show%20version",
    "action=Command&Command=module%20load%20foo.so",
    "action=COMMAND&command=core+show+channels&actionid=x",
    "action=filter&operation=add&filter=Cdr",
    "action=updateconfig&srcfilename=manager.conf&dstfilename=manager.conf",
    "action=getconfig&filename=../../etc/passwd",
)
SECRET_EVENTS = (
    Message.of(("Event", "Cdr"), ("Privilege", "cdr,all"), ("Source", "100")),
    Message.of(("Event", "InvalidPassword"), ("Privilege", "security,all"), ("AccountID", "x")),
    Message.of(("Event", "Mixed"), ("Privilege", "call,security,all"), ("Note", "both")),
    Message.of(("Event", "CdrCall"), ("Privilege", "call,cdr"), ("Note", "both")),
)
VISIBLE = Message.of(("Event", "UserEvent"), ("Privilege", "call,all"), ("UserEvent", "Seen"))


async def ask(client: Client, route: str, query: str, session: str, in_query: bool) -> str:
    client.session.cookie_jar.clear()
    if not session:  # one-shot HTTP Basic as the reader
        response = await client.get(f"/asterisk/{route}?{query}", headers=basic("reader"))
    elif in_query:
        response = await client.get(f"/asterisk/{route}?{query}&mansession_id={session}")
    else:
        headers = {"Cookie": f'mansession_id="{session}"'}
        response = await client.get(f"/asterisk/{route}?{query}", headers=headers)
    assert response.status == 200
    return await response.text()


async def route_login(client: Client, route: str, user: str) -> str:
    client.session.cookie_jar.clear()
    response = await client.get(
        f"/asterisk/{route}?action=login&username={user}&secret={user}-secret"
    )
    assert "Authentication accepted" in await response.text()
    cookie = response.cookies["mansession_id"].value
    return cookie.strip('"')


@pytest.mark.parametrize("in_query", [False, True], ids=["cookie", "mansession_id"])
@pytest.mark.parametrize("route", ROUTES)
async def test_reader_cannot_act_or_read_secrets_by_any_route(
    simulator: Simulator, aiohttp_client: MakeClient, route: str, in_query: bool
) -> None:
    client = await start(simulator, aiohttp_client)
    reader = await route_login(client, route, "reader")
    admin = await route_login(client, route, "admin")
    sent = len(simulator.received)
    for query in FORBIDDEN:
        body = await ask(client, route, query, reader, in_query)
        assert "Permission denied" in body, (query, body)
    assert len(simulator.received) == sent  # nothing reached Asterisk
    # Asking for the classes does not grant them: the user's read classes rule.
    await ask(client, route, "action=events&eventmask=security,cdr,call", reader, in_query)

    log = client.app[GATEWAY].log
    for event in (*SECRET_EVENTS, VISIBLE):
        log.append(event)
    wait = "action=waitevent&timeout=0"
    seen_by_reader = await ask(client, route, wait, reader, in_query)
    seen_by_admin = await ask(client, route, wait, admin, in_query)
    assert "Seen" in seen_by_reader
    for event in SECRET_EVENTS:
        name = event.name
        assert name in seen_by_admin, (name, seen_by_admin)  # the events were there
        assert name not in seen_by_reader
    assert "AccountID" not in seen_by_reader
    assert "Source" not in seen_by_reader
    assert "both" not in seen_by_reader


async def test_security_events_of_real_logins_never_reach_a_reader(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    reader = await route_login(client, "rawman", "reader")
    admin = await route_login(client, "rawman", "admin")
    await ask(client, "rawman", "action=events&eventmask=on", reader, False)
    await ask(client, "rawman", "action=events&eventmask=on", admin, False)
    client.session.cookie_jar.clear()
    await client.get("/asterisk/rawman?action=login&username=admin&secret=wrong")
    wait = "action=waitevent&timeout=0"
    assert "Event: InvalidPassword" in await ask(client, "rawman", wait, admin, False)
    assert "InvalidPassword" not in await ask(client, "rawman", wait, reader, False)


@pytest.mark.parametrize("route", ROUTES)
async def test_reader_over_basic_cannot_act_or_read_secrets(
    simulator: Simulator, aiohttp_client: MakeClient, route: str
) -> None:
    client = await start(simulator, aiohttp_client)
    sent = len(simulator.received)
    for query in FORBIDDEN:  # one-shot: no session at all
        body = await ask(client, route, query, "", False)
        assert "Permission denied" in body, (query, body)
    assert len(simulator.received) == sent
    client.session.cookie_jar.clear()
    response = await client.get(f"/asterisk/{route}?action=login", headers=basic("reader"))
    assert "Authentication accepted" in await response.text()
    session = response.cookies["mansession_id"].value.strip('"')
    log = client.app[GATEWAY].log
    for event in (*SECRET_EVENTS, VISIBLE):
        log.append(event)
    headers = {**basic("reader"), "Cookie": f'mansession_id="{session}"'}
    client.session.cookie_jar.clear()
    response = await client.get(f"/asterisk/{route}?action=waitevent&timeout=0", headers=headers)
    body = await response.text()
    assert "Seen" in body
    assert all(event.name not in body for event in SECRET_EVENTS)
    for query in FORBIDDEN[:4]:  # Basic with the reader's own session
        client.session.cookie_jar.clear()
        response = await client.get(f"/asterisk/{route}?{query}", headers=headers)
        assert "Permission denied" in await response.text()
    assert len(simulator.received) == sent


@pytest.mark.parametrize("route", ["arawman", "amxml", "amanager"])
async def test_reader_over_digest_cannot_act_or_read_secrets(
    simulator: Simulator, aiohttp_client: MakeClient, route: str
) -> None:
    client = await begin(simulator, aiohttp_client)
    digest = Digest(client, "reader", "reader-secret")
    await digest.login()
    sent = len(simulator.received)
    for query in FORBIDDEN:
        response = await digest.get(f"/asterisk/{route}?{query}")
        assert response.status == 200
        assert "Permission denied" in await response.text(), query
    assert len(simulator.received) == sent
    log = client.app[GATEWAY].log
    for event in (*SECRET_EVENTS, VISIBLE):
        log.append(event)
    response = await digest.get(f"/asterisk/{route}?action=waitevent&timeout=0")
    body = await response.text()
    assert "Seen" in body
    assert all(event.name not in body for event in SECRET_EVENTS)
