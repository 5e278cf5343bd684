from __future__ import annotations

import pytest

from gateway.access.classes import ALL, CLASS_BITS
from gateway.ami.challenge import md5_key
from gateway.ami.message import Message
from gateway.core.dispatch import _originate_timeout, event_mask
from gateway.errors import (
    AuthenticationFailed,
    MissingAction,
    NotConnected,
    PermissionDenied,
    RateLimited,
    ShuttingDown,
    TooManySessions,
)
from tests.support.memcore import PEER, MemCore, logged_in, mem_core


@pytest.mark.parametrize(
    ("value", "mask"),
    [
        ("on", ALL),
        ("ON", ALL),
        ("yes", ALL),
        ("all", ALL),
        ("off", 0),
        ("no", 0),
        ("none", 0),
        ("", None),  # set_eventmask leaves the mask alone
        ("1", CLASS_BITS["system"]),  # a number is Asterisk's own bitmask
        ("0", 0),
        ("call", CLASS_BITS["call"]),
        ("call,system", CLASS_BITS["call"] | CLASS_BITS["system"]),
        ("bogus", 0),  # get_perm finds no class: Events: Off, not an error
        ("000", 0),
        ("-5", 0),  # not all digits: get_perm
        ("9" * 5000, None),  # atoi: strtol clamps, the int wraps to -1 (and int() has a limit)
        ("\u00b2", 0),  # a digit to isdigit(), not to Asterisk
    ],
)
def test_event_mask_follows_asterisk(value: str, mask: int | None) -> None:
    assert event_mask(value) == mask


def test_originate_timeout_from_the_action_or_asterisks_default() -> None:
    assert _originate_timeout([("Timeout", "10000")]) == 15.0
    assert _originate_timeout([]) == 35.0
    assert _originate_timeout([("Timeout", "soon")]) == 35.0
    assert _originate_timeout([("Timeout", "\u00b2")]) == 35.0  # isdigit(), yet not int()
    longest = (2**31 - 1) / 1000 + 5.0
    assert _originate_timeout([("Timeout", "9" * 400)]) == longest  # was an OverflowError: 500
    assert _originate_timeout([("Timeout", "9" * 5000)]) == longest
    assert _originate_timeout([("Timeout", "99999999999")]) == longest


# -- the Dispatcher in memory (tests/support/memcore.py) ------------------------


async def test_login_opens_the_session_through_the_gate(core: MemCore) -> None:
    session = core.session()
    first_id = session.id
    reply = await core.dispatcher.handle(
        session,
        [("Action", "Login"), ("Username", "admin"), ("Secret", "admin-secret"), ("Events", "on")],
        PEER,
        core.now,
    )
    assert [m.name for m in reply.head] == ["Success", "FullyBooted"]
    assert session.id != first_id
    assert reply.login_session == session.id
    assert session.send_events == ALL
    assert len(core.events("SuccessfulAuth")) == 1


@pytest.mark.parametrize(
    ("user", "secret", "error", "event"),
    [
        ("admin", "no", AuthenticationFailed, "InvalidPassword"),
        ("solo", "solo-secret", TooManySessions, "SessionLimit"),  # solo's one session is taken
    ],
)
async def test_a_refused_login_ends_the_session_and_writes_its_event(
    core: MemCore, user: str, secret: str, error: type[Exception], event: str
) -> None:
    await logged_in(core, "solo")
    session = core.session()
    fields = [("Action", "Login"), ("Username", user), ("Secret", secret)]
    with pytest.raises(error):
        await core.dispatcher.handle(session, fields, PEER, core.now)
    assert core.sessions.get(session.id, core.now) is None
    assert len(core.events(event)) == 1


async def test_md5_login_answers_the_sessions_challenge(core: MemCore) -> None:
    session = core.session()
    now, handle = core.now, core.dispatcher.handle
    ask = [("Action", "Challenge"), ("AuthType", "MD5")]
    challenge = (await handle(session, ask, PEER, now)).head[0].get("Challenge")
    again = (await handle(session, ask, PEER, now)).head[0].get("Challenge")
    assert challenge is not None
    assert again == challenge  # one challenge per session until it is answered
    key = md5_key(challenge, "admin-secret")
    login = [("Action", "Login"), ("AuthType", "MD5"), ("Username", "admin"), ("Key", key)]
    assert (await handle(session, login, PEER, now)).head[0].name == "Success"
    assert session.challenge is None


async def test_only_a_few_actions_before_login(core: MemCore) -> None:
    session = core.session()
    with pytest.raises(PermissionDenied):
        await core.dispatcher.handle(session, [("Action", "Ping")], PEER, core.now)
    with pytest.raises(MissingAction):
        await core.dispatcher.handle(session, [("ActionID", "1")], PEER, core.now)
    assert core.ami.sent == []


async def test_an_action_goes_to_ami_for_the_session_without_its_id(core: MemCore) -> None:
    session = await logged_in(core)
    fields = [("Action", "Ping"), ("ActionID", "p1"), ("mansession_id", session.id)]
    reply = await core.dispatcher.handle(session, fields, PEER, core.now)
    assert reply.head[0].fields == (("Response", "Success"), ("ActionID", "p1"))
    assert core.ami.sent == [((("Action", "Ping"), ("ActionID", "p1")), session.key, False, None)]


async def test_a_sync_originate_is_sent_async_and_awaited_for_its_timeout(core: MemCore) -> None:
    session = await logged_in(core)
    fields = [("Action", "Originate"), ("Channel", "Local/1@test"), ("Async", "no")]
    await core.dispatcher.handle(session, [*fields, ("Timeout", "2000")], PEER, core.now)
    [(sent, owner, sync, timeout)] = core.ami.sent
    assert sent[-1] == ("Async", "true")
    assert ("Async", "no") not in sent
    assert (owner, sync, timeout) == (session.key, True, 2.0 + 5.0)


async def test_nothing_is_sent_while_ami_is_down(core: MemCore) -> None:
    session = await logged_in(core)
    core.ami.up = False
    with pytest.raises(NotConnected):
        await core.dispatcher.handle(session, [("Action", "Ping")], PEER, core.now)


async def test_only_actions_sent_to_asterisk_spend_the_session_rate() -> None:
    core = mem_core(session_rate=2)
    session = await logged_in(core)
    handle, now = core.dispatcher.handle, core.now
    for _ in range(5):  # the session's own actions cost Asterisk nothing
        await handle(session, [("Action", "WaitEvent"), ("Timeout", "0")], PEER, now)
        await handle(session, [("Action", "Events"), ("EventMask", "on")], PEER, now)
    await handle(session, [("Action", "Ping")], PEER, now)
    big = [("Action", "UserEvent"), ("UserEvent", "x"), *((f"B{n}", "b" * 900) for n in range(3))]
    with pytest.raises(RateLimited) as raised:  # ~3 KiB: three tokens, one is left
        await handle(session, big, PEER, now)
    assert raised.value.retry_after == 1
    assert [f[0][0] for f in core.ami.sent] == [("Action", "Ping")]
    await handle(session, [("Action", "Ping")], PEER, now + 1.0)  # refilled


async def test_logoff_events_and_filter_change_only_the_session(core: MemCore) -> None:
    session = await logged_in(core)
    now, handle = core.now, core.dispatcher.handle
    off = await handle(session, [("Action", "Events"), ("EventMask", "off")], PEER, now)
    assert off.head[0].get("Events") == "Off"
    assert session.send_events == 0
    added = [("Action", "Filter"), ("Operation", "Add"), ("Filter", "Event: Hangup")]
    assert (await handle(session, added, PEER, now)).head[0].get("Message") == "Success"
    assert session.event_filter is not None
    bye = await handle(session, [("Action", "Logoff")], PEER, now)
    assert bye.head[0].name == "Goodbye"
    assert core.sessions.get(session.id, now) is None
    assert core.ami.sent == []


async def test_a_reader_may_not_filter_or_originate(core: MemCore) -> None:
    session = await logged_in(core, "reader")
    added = [("Action", "Filter"), ("Operation", "Add"), ("Filter", "Event: Hangup")]
    with pytest.raises(PermissionDenied):
        await core.dispatcher.handle(session, added, PEER, core.now)
    with pytest.raises(PermissionDenied):
        await core.dispatcher.handle(session, [("Action", "Originate")], PEER, core.now)
    assert core.ami.sent == []


async def test_no_login_once_the_drain_began(core: MemCore) -> None:
    session = core.session()
    core.lifecycle.drain()
    fields = [("Action", "Login"), ("Username", "admin"), ("Secret", "admin-secret")]
    with pytest.raises(ShuttingDown):
        await core.dispatcher.handle(session, fields, PEER, core.now)
    assert core.events("SuccessfulAuth") == []


async def test_waitevent_answers_from_the_log(core: MemCore) -> None:
    session = await logged_in(core)
    core.log.append(Message.of(("Event", "Newchannel"), ("Privilege", "call,all")))
    fields = [("Action", "WaitEvent"), ("Timeout", "0")]
    reply = await core.dispatcher.handle(session, fields, PEER, core.now)
    assert [e.name for e in reply.events] == ["successfulauth", "newchannel"]
