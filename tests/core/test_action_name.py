"""Issue 11, item 11 (first part): the gateway reads an action as Asterisk will.

Asterisk's process_message takes the action from the first ``Action`` header
whose value is not empty once its leading blanks (bytes below 33) are
skipped (``__astman_get_header(m, "Action", GET_HEADER_SKIP_EMPTY)``), then
compares it whole, without trimming its end (``strcasecmp``): ``Ping `` is
an unknown command.  Every other header an action handler reads goes
through ``astman_get_header``: the first one, leading blanks skipped.  The
gateway must see the same name and values for its local actions (Login,
Logoff, Challenge, WaitEvent, Events, Filter), its rights checks, its
owner tracking and its sync-Originate emulation, or a name it reads one way
runs in Asterisk as another.

The core runs in memory (``tests/support/memcore.py``); its permissions are
not learnt from ListCommands (as before the first AMI login), so every
action counts as known and only a write=all user may run an unlisted one:
the case where a misread name would have reached AMI.
"""

from __future__ import annotations

import pytest

from gateway.ami.message import Message, header
from gateway.errors import AmiLevelError, MissingAction, PermissionDenied
from tests.support.memcore import PEER, MemCore, logged_in

BLANKS = [chr(c) for c in (1, 8, 9, 11, 27, 31, 32)]
"""Bytes ast_skip_blanks skips, some of which Python's str.strip keeps."""


@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize("local", ["Logoff", "Events", "Filter", "WaitEvent", "Challenge"])
async def test_a_local_action_behind_blanks_is_local(core: MemCore, blank: str, local: str) -> None:
    """A session's own action must never reach the shared AMI session."""
    session = await logged_in(core)
    fields = [
        ("Action", blank + local),
        ("EventMask", "off"),
        ("Operation", "Add"),
        ("Filter", "Event: Hangup"),
        ("Timeout", "0"),
        ("AuthType", "MD5"),
    ]
    await core.dispatcher.handle(session, fields, PEER, core.now)
    assert core.ami.sent == []


async def test_an_empty_action_header_is_skipped_as_asterisk_does(core: MemCore) -> None:
    session = await logged_in(core)
    fields = [("Action", ""), ("Action", " \x01"), ("Action", "Logoff")]
    reply = await core.dispatcher.handle(session, fields, PEER, core.now)
    assert reply.head[0].name == "Goodbye"
    assert core.ami.sent == []
    with pytest.raises(MissingAction):
        await core.dispatcher.handle(core.session(), [("Action", " \t")], PEER, core.now)


async def test_an_originate_behind_blanks_is_owned_and_goes_out_clean(core: MemCore) -> None:
    session = await logged_in(core)
    fields = [("Action", "\x01 Originate"), ("Channel", "Local/1@test"), ("Async", "true")]
    await core.dispatcher.handle(session, fields, PEER, core.now)
    [(sent, owner, sync, _)] = core.ami.sent
    assert [v for k, v in sent if k.lower() == "action"] == ["Originate"]
    assert header(sent, "Async") == "true"
    assert (owner, sync) == (session.key, False)


async def test_a_sync_originate_behind_blanks_is_emulated(core: MemCore) -> None:
    session = await logged_in(core)
    fields = [("Action", "\x1bOriginate"), ("Channel", "Local/1@test"), ("Timeout", "\x012000")]
    await core.dispatcher.handle(session, fields, PEER, core.now)
    [(sent, owner, sync, timeout)] = core.ami.sent
    assert header(sent, "Async") == "true"
    assert (owner, sync, timeout) == (session.key, True, 2.0 + 5.0)


@pytest.mark.parametrize("name", ["Ping ", "Ping\t", "Ping\x85", "Logoff ", "WaitEvent\x0b"])
async def test_a_name_with_a_blank_at_its_end_is_unknown(core: MemCore, name: str) -> None:
    """Asterisk compares the whole name: the gateway answers as it would,
    without a round trip (the deviation for actions ListCommands lacks)."""
    core.accounts.learn_actions(
        Message.of(
            ("Response", "Success"),
            ("Ping", "Keepalive command.  (Priv: <none>)"),
            ("Logoff", "Logoff Manager.  (Priv: <none>)"),
            ("WaitEvent", "Wait for an event to occur.  (Priv: <none>)"),
        )
    )
    session = await logged_in(core)
    with pytest.raises(AmiLevelError) as raised:
        await core.dispatcher.handle(session, [("Action", name)], PEER, core.now)
    assert raised.value.message.startswith(f"Invalid/unknown command: {name}. Use Action:")
    assert core.ami.sent == []


async def test_before_login_only_the_exact_names_pass(core: MemCore) -> None:
    with pytest.raises(PermissionDenied):  # Asterisk: strcasecmp(action, "Login") fails
        await core.dispatcher.handle(core.session(), [("Action", "Login ")], PEER, core.now)
    session = core.session()
    fields = [("Action", "\x01login"), ("Username", " admin"), ("Secret", "\tadmin-secret")]
    reply = await core.dispatcher.handle(session, fields, PEER, core.now)
    assert reply.head[0].get("Message") == "Authentication accepted"


async def test_values_of_local_actions_are_read_past_their_blanks(core: MemCore) -> None:
    session = core.session()
    ask = [("Action", "Challenge"), ("AuthType", " md5"), ("ActionID", " c1")]
    reply = await core.dispatcher.handle(session, ask, PEER, core.now)
    assert reply.head[0].get("Challenge") is not None
    assert reply.head[0].get("ActionID") == "c1"
    admin = await logged_in(core)
    add = [("Action", "Filter"), ("Operation", "\x01add"), ("Filter", " Event: Hangup")]
    assert (await core.dispatcher.handle(admin, add, PEER, core.now)).head[0].name == "Success"


async def test_the_actionid_goes_out_as_asterisk_reads_it(core: MemCore) -> None:
    session = await logged_in(core)
    reply = await core.dispatcher.handle(
        session, [("Action", "Ping"), ("ActionID", " \x01p1")], PEER, core.now
    )
    [(sent, _, _, _)] = core.ami.sent
    assert header(sent, "ActionID") == "p1"
    assert reply.head[0].get("ActionID") == "p1"
