"""Session-local event controls end to end: Filter, Events, the opt-in cursor."""

from __future__ import annotations

from gateway.simulator import Simulator
from tests.harness import MakeClient, login, rawman, start


def user_event(name: str, privilege: str = "user,all") -> list[tuple[str, str]]:
    return [("Event", "UserEvent"), ("Privilege", privilege), ("UserEvent", name)]


async def test_filter_action_limits_this_session_only(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    filtered, plain = await login(client), await login(client)
    for session in (filtered, plain):
        await rawman(client, session, "action=waitevent&timeout=0")
    body = await rawman(
        client, filtered, "action=filter&operation=add&filter=UserEvent:%20Keep&actionid=f1"
    )
    assert body == "Response: Success\r\nActionID: f1\r\nMessage: Success\r\n\r\n"
    simulator.emit(user_event("Drop"))
    simulator.emit(user_event("Keep"))
    only = await rawman(client, filtered, "action=waitevent&timeout=2")
    assert "UserEvent: Keep" in only
    assert "UserEvent: Drop" not in only
    both = await rawman(client, plain, "action=waitevent&timeout=2")
    assert "UserEvent: Drop" in both
    bad = await rawman(client, filtered, "action=filter&operation=remove&filter=x")
    assert bad == "Response: Error\r\nMessage: Unknown operation\r\n\r\n"
    empty = await rawman(client, filtered, "action=filter&operation=add")
    assert empty == "Response: Error\r\nMessage: No filter specified\r\n\r\n"


async def test_filter_needs_the_system_write_class(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    reader = await login(client, "reader")
    body = await rawman(client, reader, "action=filter&operation=add&filter=Event:%20X")
    assert body == "Response: Error\r\nMessage: Permission denied\r\n\r\n"


async def test_events_mask_and_bad_masks(simulator: Simulator, aiohttp_client: MakeClient) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    await rawman(client, session, "action=waitevent&timeout=0")
    assert (await rawman(client, session, "action=events&eventmask=call")).endswith("On\r\n\r\n")
    simulator.emit(user_event("Hidden"))
    simulator.emit(user_event("Shown", "call,all"))
    body = await rawman(client, session, "action=waitevent&timeout=2")
    assert "Shown" in body
    assert "Hidden" not in body
    bad = await rawman(client, session, "action=events&eventmask=bogus")
    assert bad == "Response: Error\r\nMessage: Invalid event mask\r\n\r\n"
    assert (await rawman(client, session, "action=challenge")) == (
        "Response: Error\r\nMessage: Must specify AuthType\r\n\r\n"
    )


async def test_cursor_resumes_after_a_lost_response(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    first = await rawman(client, session, "action=waitevent&timeout=0&cursor=")
    cursor = first.rsplit("Cursor: ", 1)[1].split("\r\n")[0]
    simulator.emit(user_event("One"))
    lost = await rawman(client, session, "action=waitevent&timeout=2&cursor=")
    assert "UserEvent: One" in lost
    again = await rawman(client, session, f"action=waitevent&timeout=2&cursor={cursor}")
    assert "UserEvent: One" in again  # the response was "lost": ask again from before it
    assert "\r\nCursor: " in again
    bad = await rawman(client, session, "action=waitevent&timeout=0&cursor=abc")
    assert bad == "Response: Error\r\nMessage: Invalid cursor\r\n\r\n"


async def test_a_tiny_ring_reports_lost_events_in_cursor_mode(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, events={"ring_size": 2})
    session = await login(client)
    await rawman(client, session, "action=waitevent&timeout=0&cursor=")
    for i in range(5):
        simulator.emit(user_event(f"E{i}"))
    body = ""
    for _ in range(20):  # the events arrive over the socket; wait until all five are in
        body = await rawman(client, session, "action=waitevent&timeout=0&cursor=0")
        if "E4" in body:
            break
    assert "Event: GatewayEventsLost\r\nPrivilege: system,all\r\nLost: " in body
