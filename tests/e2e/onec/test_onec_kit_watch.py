"""СледитьЗаЗвонками (the twin of clients/1c/AjamGateway.bsl) across restarts.

The module keeps its cursor and recognizer state in ХранилищеОбщихНастроек,
written in the same transaction as the handler's own records; the handler
here writes each notification into a "register" in that same store, so
what the tests read is what a 1C information base would hold.  Calls are
the simulator's: 400 dials extension 100 with the client's CallerID.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from gateway.app import GATEWAY
from gateway.simulator import Simulator
from gateway.simulator.channels import event
from gateway.simulator.dialplan import OriginateRequest
from tests.support.harness import until
from tests.support.onec_gateway import incoming, kit_app, kit_settings, serve
from tests.support.onec_platform import CommonModule, OnecError, Platform, Structure
from tests.support.onec_twin import pause_after_failure, watch
from tests.support.procs import free_port

REGISTER = ("Звонки", "")
"""Where the handler writes: an information register, in the IB's transaction."""
HANDLER = "ЗвонкиОператоров"


class Pauses:
    """Пауза() for the tests: each pause waits until the test lets it go."""

    def __init__(self) -> None:
        self.taken: list[float] = []
        self.go = asyncio.Event()
        self.go.set()

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)
        await self.go.wait()


def never(notice: Structure) -> bool:
    return False


def platform_with_handler(pauses: Pauses, fail: Callable[[Structure], bool] = never) -> Platform:
    platform = Platform(sleep=pauses)

    def on_notification(notice: Structure) -> None:
        if fail(notice):
            raise OnecError("обработчик не смог")
        register = platform.store.setdefault(REGISTER, [])
        register.append(dict(notice))

    platform.modules[HANDLER] = CommonModule(True, {"ПриУведомленииОЗвонке": on_notification})
    return platform


def register(platform: Platform) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = platform.store.get(REGISTER, [])
    return rows


def kinds(platform: Platform, extension: str = "100") -> Counter[tuple[str, str]]:
    """(Вид, Linkedid) of every row for ``extension``."""
    rows = register(platform)
    return Counter((r["Вид"], r["Linkedid"]) for r in rows if r.get("Добавочный") == extension)


def ended(platform: Platform) -> int:
    return sum(n for (kind, _), n in kinds(platform).items() if kind == "Завершён")


def cursor_of(platform: Platform) -> Any:
    saved = platform.store.get(("АджамШлюз", "АджамШлюз"))
    return None if saved is None else saved["Курсор"]


def complete_calls(platform: Platform) -> set[str]:
    """Linkedids with exactly one Звонит, Ответили and Завершён each."""
    counted = kinds(platform)
    linkedids = {linkedid for _, linkedid in counted}
    return {
        linkedid
        for linkedid in linkedids
        if all(counted[kind, linkedid] == 1 for kind in ("Звонит", "Ответили", "Завершён"))
    }


def fillers(sim: Simulator, count: int) -> None:
    """Events the kit's session does not read (class user): they move the
    ring's numbers on, as the dialplan chatter of a real PBX does."""
    for n in range(count):
        sim.emit(event("UserEvent", "user", (("UserEvent", f"F{n}"),)))


def long_call(sim: Simulator) -> None:
    """Extension 600 is dialled and answers; the call goes on until hung up."""
    request = OriginateRequest(channel="Local/600@test", application="Wait", data="100000")
    assert sim.pbx.originate(request) is not None


def hang_up(sim: Simulator, extension: str) -> None:
    sim.pbx.hangup([c for c in sim.pbx.channels.values() if f"/{extension}@" in c.name])


def only(platform: Platform, extension: str) -> str:
    """The Linkedid of the one call the register holds for ``extension`` ("" for none)."""
    linkedids = {r["Linkedid"] for r in register(platform) if r.get("Добавочный") == extension}
    assert len(linkedids) <= 1
    return linkedids.pop() if linkedids else ""


async def read_past(platform: Platform, app: web.Application) -> None:
    """Until the module has stored a cursor past everything the gateway holds."""
    log = app[GATEWAY].log
    await until(lambda: (cursor_of(platform) or 0) >= log.last_seq, timeout=10)


async def test_a_gateway_restart_loses_and_repeats_nothing(simulator: Simulator) -> None:
    port, pauses = free_port(), Pauses()
    platform = platform_with_handler(pauses)
    settings = kit_settings(port, Добавочные=["100", "600"])
    first = kit_app(simulator)
    async with serve(first, port):
        task = asyncio.create_task(watch(platform, settings, HANDLER))
        await until(lambda: cursor_of(platform) is not None)
        fillers(simulator, 300)
        incoming(simulator, "400", seconds=1)
        await until(lambda: ended(platform) == 1, timeout=10)
        long_call(simulator)  # still up when the gateway goes
        await until(lambda: kinds(platform, "600")["Ответили", only(platform, "600")] == 1)
        pauses.go.clear()  # the loop's next pause lasts until the test says
    await until(lambda: pauses.taken != [])
    second = kit_app(simulator)
    async with serve(second, port):
        # While the module waits: a whole call that only the new gateway's ring holds.
        incoming(simulator, "400", seconds=1)
        await until(lambda: len(simulator.pbx.channels) == 2, timeout=10)  # 600's two
        assert second[GATEWAY].log.origin > cursor_of(platform)  # the new ring numbers above it
        pauses.go.set()
        await until(lambda: ended(platform) == 2, timeout=10)
        incoming(simulator, "400", seconds=1)  # and one after the module came back
        await until(lambda: ended(platform) == 3, timeout=10)
        hang_up(simulator, "600")
        await until(lambda: not simulator.pbx.channels)
        await read_past(platform, second)
        task.cancel()
    assert len(complete_calls(platform)) == 3
    assert [r for r in register(platform) if r["Вид"] == "СобытияПотеряны"] == [
        {"Вид": "СобытияПотеряны", "Причина": "GatewayRestarted", "Потеряно": 0}
    ]
    linkedid = only(platform, "600")
    assert kinds(platform, "600") == Counter(
        {("Звонит", linkedid): 1, ("Ответили", linkedid): 1, ("Завершён", linkedid): 1}
    )  # closed by the restart, and not again by its Hangup in the new ring
    closed = [r for r in register(platform) if r["Вид"] == "Завершён" and r["Добавочный"] == "600"]
    assert closed[0]["Причина"] == "GatewayRestarted"
    assert ("АджамШлюз", "События потеряны: GatewayRestarted, 0") in platform.journal
    assert len(platform.journal) > 1  # and the failed polls while no gateway listened


async def test_a_1c_restart_resumes_from_the_stored_cursor(simulator: Simulator) -> None:
    pauses = Pauses()
    platform = platform_with_handler(pauses)
    app = kit_app(simulator, events={"ring_size": 64})
    async with serve(app) as port:
        settings = kit_settings(port, Добавочные=["100", "600"])
        task = asyncio.create_task(watch(platform, settings, HANDLER))
        await until(lambda: cursor_of(platform) is not None)  # a first run starts "now"
        incoming(simulator, "400", seconds=1)
        await until(lambda: ended(platform) == 1, timeout=10)
        task.cancel()  # the 1C server goes down; the store keeps what was committed
        incoming(simulator, "400", seconds=1)
        await until(lambda: not simulator.pbx.channels, timeout=10)
        restarted = platform_with_handler(pauses)
        restarted.store = platform.store
        task = asyncio.create_task(watch(restarted, settings, HANDLER))
        await until(lambda: ended(restarted) == 2, timeout=10)
        assert len(complete_calls(restarted)) == 2
        # Down again, with a call open, while more happens than the ring holds.
        long_call(simulator)
        await until(lambda: kinds(restarted, "600")["Ответили", only(restarted, "600")] == 1)
        task.cancel()
        hang_up(simulator, "600")
        fillers(simulator, 100)
        await until(lambda: app[GATEWAY].log.last_seq > 64 + cursor_of(restarted))
        task = asyncio.create_task(watch(restarted, settings, HANDLER))
        await until(
            lambda: (
                ended(restarted) == 2
                and kinds(restarted, "600")["Завершён", only(restarted, "600")] == 1
            )
        )
        task.cancel()
    lost = [r for r in register(restarted) if r["Вид"] == "СобытияПотеряны"]
    assert [(r["Причина"], r["Потеряно"] > 0) for r in lost] == [("GatewayEventsLost", True)]
    closed = [r for r in register(restarted) if r["Вид"] == "Завершён" and r["Добавочный"] == "600"]
    assert [r["Причина"] for r in closed] == ["GatewayEventsLost"]
    assert len(complete_calls(restarted)) == 2  # nothing twice
    [loss] = [text for _, text in restarted.journal if text.startswith("События потеряны")]
    assert re.fullmatch(r"События потеряны: GatewayEventsLost, [1-9]\d*", loss)


async def test_a_failing_handler_gets_the_same_batch_again(simulator: Simulator) -> None:
    pauses = Pauses()
    failed: list[str] = []

    def once(notice: Structure) -> bool:
        if notice.Вид == "Ответили" and not failed:
            failed.append(notice.Linkedid)
            return True
        return False

    platform = platform_with_handler(pauses, once)
    async with serve(kit_app(simulator)) as port:
        settings = kit_settings(port, Добавочные=["100"])
        task = asyncio.create_task(watch(platform, settings, HANDLER))
        await until(lambda: cursor_of(platform) is not None)
        incoming(simulator, "400", seconds=1)
        await until(lambda: ended(platform) == 1, timeout=10)
        task.cancel()
    assert failed
    assert complete_calls(platform) == set(failed)  # each notification once, none lost
    assert ("АджамШлюз", "обработчик не смог") in platform.journal
    assert len(pauses.taken) == 1


async def test_a_refused_login_stops_the_loop(simulator: Simulator) -> None:
    pauses = Pauses()
    platform = platform_with_handler(pauses)
    async with serve(kit_app(simulator)) as port:
        settings = kit_settings(port, Пароль="неверный")
        with pytest.raises(
            OnecError, match=r"^ajam-gateway: вход отклонён: Authentication failed$"
        ):
            await watch(platform, settings, HANDLER)
        with pytest.raises(OnecError, match=r'^АджамШлюз: нет серверного общего модуля "Нет"$'):
            await watch(platform, kit_settings(port), "Нет")
    assert pauses.taken == []  # a wrong password is not retried into a lockout
    assert platform.journal == [("АджамШлюз", "ajam-gateway: вход отклонён: Authentication failed")]


async def test_the_loop_ends_after_its_duration(simulator: Simulator) -> None:
    platform = platform_with_handler(Pauses())
    async with serve(kit_app(simulator)) as port:
        async with asyncio.timeout(10):
            await watch(platform, kit_settings(port, ДлительностьСекунд=1), HANDLER)
    assert cursor_of(platform) is not None


def test_pauses_double_up_to_the_cap_with_a_random_half() -> None:
    settings = kit_settings(1, ПаузаМин=1, ПаузаМакс=60)
    full = [pause_after_failure(settings, n, 1.0) for n in range(1, 9)]
    assert full == [1, 2, 4, 8, 16, 32, 60, 60]
    assert [pause_after_failure(settings, n, 0.0) for n in (1, 7)] == [0.5, 30]
    assert pause_after_failure(settings, 10_000, 0.5) == 45
