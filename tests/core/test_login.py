"""The login gate in memory: the one check and the one way a session is opened."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gateway.access.classes import ALL
from gateway.access.identity import Identity
from gateway.core.login import OwnLogin
from gateway.core.replies import Door
from gateway.errors import AuthenticationFailed, ShuttingDown
from tests.support.memcore import PEER, MemCore, mem_core


async def test_a_right_secret_gives_the_users_identity_and_writes_nothing(core: MemCore) -> None:
    identity = await core.gate.check_secret(PEER, "Admin", secret="admin-secret")
    assert identity == Identity("admin", ALL, ALL)
    assert core.log.last_seq == core.log.origin  # SuccessfulAuth is written by open(), once


@pytest.mark.parametrize(
    ("username", "secret", "event"),
    [("admin", "wrong", "InvalidPassword"), ("nobody", "x", "InvalidAccountID")],
)
async def test_a_failure_ends_the_session_writes_one_event_and_raises(
    core: MemCore, username: str, secret: str, event: str
) -> None:
    session = core.session()
    with pytest.raises(AuthenticationFailed):
        await core.gate.check_secret(PEER, username, secret=secret, session=session)
    assert core.sessions.get(session.id, core.now) is None
    [written] = [e.message for e in core.log.since(0)[1]]
    assert written.name == event
    assert written.get("SessionID") == f"0x{int(session.key):012x}"
    assert core.security.failed == {(Door.HTTP, event): 1}


async def test_the_answer_to_a_failure_waits_for_the_delay_from_the_attempts_start() -> None:
    core = mem_core(fail_delay=0.05)
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(AuthenticationFailed):
        await core.gate.check_secret(PEER, "admin", secret="wrong")
    assert loop.time() - began >= 0.05


async def test_over_the_limits_the_secret_is_never_looked_at() -> None:
    core = mem_core(failures_per_user=2)
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            await core.gate.check_secret(PEER, "admin", secret="wrong")
    asked: list[str] = []

    def verify() -> Identity | str:
        asked.append("yes")
        return Identity("admin", 0, 0)

    with pytest.raises(AuthenticationFailed):
        await core.gate.check(PEER, "admin", verify)
    assert asked == []
    assert core.events("LoginRateLimited") != []


async def test_the_check_runs_off_the_event_loop(core: MemCore) -> None:
    threads: list[threading.Thread] = []

    def verify() -> str:
        threads.append(threading.current_thread())
        return "ChallengeResponseFailed"

    with pytest.raises(AuthenticationFailed):
        await core.gate.check(PEER, "admin", verify)
    [thread] = threads
    assert thread is not threading.main_thread()
    assert core.events("ChallengeResponseFailed")[0].get("SessionID") == "0x000000000000"


async def test_a_right_secret_during_a_drain_is_refused(core: MemCore) -> None:
    core.gate.refuse_if_closing()  # serving: nothing happens
    core.lifecycle.drain()
    with pytest.raises(ShuttingDown):
        await core.gate.check_secret(PEER, "admin", secret="admin-secret")
    with pytest.raises(ShuttingDown):
        core.gate.refuse_if_closing()


def test_open_rekeys_logs_in_moves_the_cursor_and_writes_one_successful_auth(
    core: MemCore,
) -> None:
    session = core.session()
    session.ensure_challenge(lambda: "123")
    old_id = session.id
    identity = Identity("admin", 1, 1)
    core.gate.open(session, identity, PEER, core.now)
    assert session.id != old_id
    assert core.sessions.get(old_id, core.now) is None
    assert core.sessions.get(session.id, core.now) is session
    assert (session.identity, session.challenge) == (identity, None)
    assert session.expires == core.now + 60  # a logged-in life
    [auth] = core.events("SuccessfulAuth")
    assert auth.get("SessionID") == f"0x{int(session.key):012x}"
    # Its own SuccessfulAuth, the one event after the cursor, is still ahead.
    assert core.log.count(session.cursor, core.log.last_seq) == 1


def test_a_digest_session_starts_after_its_own_successful_auth(core: MemCore) -> None:
    session = core.session()
    hidden = OwnLogin.HIDDEN
    core.gate.open(session, Identity("admin", 1, 1), PEER, core.now, own_login=hidden)
    assert session.cursor == core.log.last_seq


def test_a_one_shot_session_opens_without_entering_the_store(core: MemCore) -> None:
    session = core.sessions.detached(PEER.address, core.now, 0)
    core.gate.open(session, Identity("admin", 1, 1), PEER, core.now)
    assert session.id == ""
    assert len(core.sessions) == 0
    assert len(core.events("SuccessfulAuth")) == 1


def test_room_for_counts_the_users_sessions(core: MemCore) -> None:
    assert core.gate.room_for("solo")
    session = core.session()
    core.gate.open(session, Identity("solo", 1, 1), PEER, core.now)
    assert not core.gate.room_for("solo")
    assert core.gate.room_for("admin")  # no max_sessions


async def test_fail_without_a_session_names_session_zero(core: MemCore) -> None:
    with pytest.raises(AuthenticationFailed):
        await core.gate.fail(PEER, "solo", "SessionLimit")
    assert core.events("SessionLimit")[0].get("SessionID") == "0x000000000000"
