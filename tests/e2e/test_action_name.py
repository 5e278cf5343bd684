"""Issue 11, item 11 (first part), end to end: ``action=%20Originate``.

Asterisk skips the leading blanks of an action's name and runs the
Originate; the gateway forwarded it but its correlator, reading the name
with the blank, recorded no owner, so the async OriginateResponse went to
every session instead of only the one that originated.  (Since issue 13 it
goes to every session that may read ``call``, as in Asterisk; the owner
still decides for a user with ``originate_response = "owner"``.)
"""

from __future__ import annotations

import asyncio

from gateway.simulator import Simulator
from tests.support.harness import Client, MakeClient, login, rawman, start


async def poll(client: Client, session: str, timeout: str = "0") -> str:
    return await rawman(client, session, f"action=waitevent&timeout={timeout}")


async def test_an_originate_behind_a_blank_answers_only_its_session(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    narrow = {
        "secret": "narrow-secret",
        "read": "call",
        "write": "originate,call",
        "originate_response": "owner",
    }
    client = await start(simulator, aiohttp_client, users={"narrow": narrow})
    mine, other = await login(client, "narrow"), await login(client, "narrow")
    await poll(client, mine)
    await poll(client, other)  # both past their logins' events
    query = (
        "action=%20Originate&channel=Local/100@test&application=Wait&data=1"
        "&async=true&actionid=%20o1"
    )
    answer = await rawman(client, mine, query)
    assert answer == (
        "Response: Success\r\nActionID: o1\r\nMessage: Originate successfully queued\r\n\r\n"
    )
    seen = ""
    async with asyncio.timeout(10):
        while "Event: OriginateResponse" not in seen:
            seen += await poll(client, mine, "1")
    assert "ActionID: o1\r\n" in seen.split("Event: OriginateResponse", 1)[1]
    others = await poll(client, other)
    assert "Event: Newchannel" in others  # the call's own events reach everyone
    assert "OriginateResponse" not in others
