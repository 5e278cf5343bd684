"""Issue 11, item 11: the config ``eventfilter`` is the operator's ceiling.

In Asterisk a session's ``Action: Filter`` joins the user's own include and
exclude lists, so an include filter added by the session widens what the
operator allowed.  The gateway (a documented deviation) keeps the two apart:
an event reaches the session only when the user's filters and the session's
own filters both let it through.
"""

from __future__ import annotations

from typing import Any

from gateway.app import GATEWAY
from gateway.lifecycle import reload_config
from gateway.simulator import Simulator
from tests.support.harness import (
    MakeClient,
    gateway_config,
    login,
    narrow_users,
    rawman,
    start,
    user_event,
)


async def seen(client: Any, session: str, simulator: Simulator, *names: str) -> str:
    for name in names:
        simulator.emit(user_event(name))
    simulator.emit(user_event("End"))
    # AMI is one ordered stream: a poll that sees End (or times out) has seen the rest.
    return await rawman(client, session, "action=waitevent&timeout=1")


async def test_a_session_include_cannot_widen_the_users_filter(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, users=narrow_users(["UserEvent: (Public|End)"]))
    session = await login(client, "narrow")
    await rawman(client, session, "action=waitevent&timeout=0")
    added = await rawman(client, session, "action=filter&operation=add&filter=UserEvent:%20Secret")
    assert added == "Response: Success\r\nMessage: Success\r\n\r\n"
    body = await seen(client, session, simulator, "Secret", "Public")
    assert "UserEvent: Secret" not in body  # Asterisk would deliver it
    assert "UserEvent: Public" not in body  # the session's own include narrows


async def test_a_session_filter_narrows_the_users_filter(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(
        simulator, aiohttp_client, users=narrow_users(["UserEvent: (Public|Other|End)"])
    )
    session = await login(client, "narrow")
    await rawman(client, session, "action=waitevent&timeout=0")
    await rawman(client, session, "action=filter&operation=add&filter=!UserEvent:%20Other")
    body = await seen(client, session, simulator, "Secret", "Other", "Public")
    assert "UserEvent: Public" in body
    assert "UserEvent: Other" not in body
    assert "UserEvent: Secret" not in body


async def test_a_reload_replaces_the_ceiling_and_keeps_the_sessions_own_filters(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, users=narrow_users(["UserEvent: (Public|End)"]))
    session = await login(client, "narrow")
    await rawman(client, session, "action=waitevent&timeout=0")
    await rawman(client, session, "action=filter&operation=add&filter=!UserEvent:%20Public")
    wider = gateway_config(simulator.port, users=narrow_users(["UserEvent: (Public|Secret|End)"]))
    reload_config(client.app, wider)
    body = await seen(client, session, simulator, "Public", "Secret", "Hidden")
    assert "UserEvent: Secret" in body  # the new ceiling lets it through
    assert "UserEvent: Public" not in body  # the session's own exclude is kept
    assert "UserEvent: Hidden" not in body
    assert client.app[GATEWAY].sessions.authenticated_count() == 1
