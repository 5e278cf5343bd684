"""Issue 11, item 4: booleans read exactly as Asterisk reads them.

Asterisk reads a header value after skipping its leading bytes below 33
(ast_skip_blanks in astman_get_header) and nothing else: ``"true "`` is not
``ast_true``.  An Originate whose Async Asterisk would read as false must be
emulated as a synchronous one, and the wire must carry one unambiguous
``Async: true``; the Events masks follow strings_to_mask byte for byte.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from gateway.access.astvalues import action_name, as_asterisk_reads
from gateway.access.classes import ALL, CLASS_BITS
from gateway.simulator import Simulator
from tests.support.harness import MakeClient, login, rawman, start

SYNC_ANSWER = "Response: Error\r\nMessage: Originate failed\r\n\r\n"
ASYNC_ANSWER = "Response: Success\r\nMessage: Originate successfully queued\r\n\r\n"

READ_AS_FALSE = ["true ", "1\t", "yes\v", "on\x0c", "y\x01", "TRUE\xa0", "no", "false", "", "2"]
READ_AS_TRUE = ["TRUE", "y", "Yes", "t", "1", "On", " true", "\ton", "\x01yes"]


def originate(async_values: list[str]) -> str:
    asyncs = "".join(f"&async={quote(value)}" for value in async_values)
    # No such technology: a sync Originate fails at once; an async one is queued.
    return f"action=originate&channel=Nosuch/1&exten=100&context=test&priority=1{asyncs}"


def sent_asyncs(simulator: Simulator) -> list[str]:
    originates = [m for m in simulator.received if (m.get("Action") or "").lower() == "originate"]
    return originates[-1].get_all("Async")


@pytest.mark.parametrize(
    ("value", "answer"),
    [(v, SYNC_ANSWER) for v in READ_AS_FALSE] + [(v, ASYNC_ANSWER) for v in READ_AS_TRUE],
)
async def test_async_is_read_as_asterisk_reads_it_and_sent_as_true(
    simulator: Simulator, aiohttp_client: MakeClient, value: str, answer: str
) -> None:
    """What Asterisk reads as false is emulated sync (answered with the call's outcome)."""
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    assert await rawman(client, session, originate([value])) == answer
    assert sent_asyncs(simulator) == ["true"]


async def test_only_the_first_async_counts_and_one_reaches_the_wire(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    assert await rawman(client, session, originate(["yes", "no"])) == ASYNC_ANSWER
    assert sent_asyncs(simulator) == ["true"]
    assert await rawman(client, session, originate(["no", "yes"])) == SYNC_ANSWER
    assert sent_asyncs(simulator) == ["true"]
    body = await rawman(client, session, originate([]) + "&ASYNC=1&aSyNc=0")
    assert body == ASYNC_ANSWER
    assert sent_asyncs(simulator) == ["true"]


@pytest.mark.parametrize(
    ("mask", "answer"),
    [
        ("on", "Events: On"),
        ("ON", "Events: On"),
        ("on ", "Events: Off"),  # not ast_true: get_perm finds no class
        ("yes\t", "Events: Off"),
        (" on", "Events: On"),  # leading blanks are skipped
        ("off", "Events: Off"),
        ("bogus", "Events: Off"),  # get_perm: no class, not an error
        ("-1", "Events: Off"),  # not all digits: get_perm again
        ("", "Message: Invalid event mask"),  # only the empty mask is an error
        ("2147483648", "Message: Invalid event mask"),  # atoi wraps to a negative int
        ("16384", "Events: On"),  # hookresponse: a class the gateway has no event of
        ("call", "Events: On"),
        (",", "Events: On"),  # an empty item matches every label, "all" included
    ],
)
async def test_events_action_reads_the_mask_as_strings_to_mask(
    simulator: Simulator, aiohttp_client: MakeClient, mask: str, answer: str
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    body = await rawman(client, session, f"action=events&eventmask={quote(mask)}")
    assert answer in body, body


@pytest.mark.parametrize(
    ("events", "fully_booted"),
    [("on", True), ("on ", False), ("system", True), ("sys", False), ("sys,", True)],
)
async def test_login_events_follow_strings_to_mask(
    simulator: Simulator, aiohttp_client: MakeClient, events: str, fully_booted: bool
) -> None:
    client = await start(simulator, aiohttp_client)
    client.session.cookie_jar.clear()
    query = f"action=login&username=admin&secret=admin-secret&events={quote(events)}"
    response = await client.get(f"/asterisk/rawman?{query}")
    body = await response.text()
    assert body.startswith("Response: Success\r\nMessage: Authentication accepted\r\n")
    assert ("Event: FullyBooted" in body) is fully_booted


def test_the_mask_helpers_are_asterisks() -> None:
    from gateway.access.astvalues import ast_false, ast_true, event_classes, strings_to_mask

    assert [ast_true(v) for v in ("yes", "TRUE", "y", "T", "1", "on")] == [True] * 6
    assert [ast_true(v) for v in ("true ", " true", "1\t", "", "2", "ｔrue")] == [False] * 6
    assert [ast_false(v) for v in ("no", "FALSE", "n", "F", "0", "off")] == [True] * 6
    assert not ast_false("off ")
    assert strings_to_mask("") == -1
    assert strings_to_mask("007") == 7
    assert strings_to_mask("99999999999999999999") == -1  # strtol clamps, the int wraps
    assert strings_to_mask("4294967296") == 0
    assert strings_to_mask("sys,call") == 3  # a prefix of "system" before a comma
    assert strings_to_mask("call,sys") == 2  # the last item must be whole
    assert strings_to_mask("Call") == 0  # get_perm is case-sensitive
    assert strings_to_mask("on") == strings_to_mask("all") == 2**31 - 1
    assert event_classes(2**31 - 1) == ALL
    assert event_classes(1 << 15) == CLASS_BITS["cc"]  # Asterisk's bit 14 is hookresponse
    assert event_classes(1 << 30) == CLASS_BITS["message"]
    assert event_classes(1 << 14) == 0


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ([("Action", "Ping")], "Ping"),
        ([("action", " \x01Ping ")], "Ping "),  # leading blanks skipped, the end kept
        ([("Action", ""), ("ACTION", "\t"), ("Action", "Logoff")], "Logoff"),  # SKIP_EMPTY
        ([("Action", "Ping"), ("Action", "Logoff")], "Ping"),
        ([("Actions", "Ping"), ("Action ", "Ping")], ""),  # the name must be exactly Action
        ([("Act\u0130on", "Ping")], ""),  # ASCII case folding only
        ([], ""),
    ],
)
def test_the_action_is_read_as_process_message_reads_it(
    fields: list[tuple[str, str]], name: str
) -> None:
    assert action_name(fields) == name


def test_the_fields_carry_the_action_and_actionid_as_read() -> None:
    fields = [
        ("Action", " "),
        ("ActionID", "\x01 a1 "),
        ("Action", "\x1bOriginate"),
        ("Channel", " Local/1@test"),
        ("Action", "Logoff"),
        ("actionid", " second"),
    ]
    assert as_asterisk_reads(fields) == [
        ("ActionID", "a1 "),
        ("Action", "Originate"),
        ("Channel", " Local/1@test"),  # Asterisk skips it itself: left as sent
        ("actionid", " second"),  # the correlator drops a later ActionID
    ]
