"""The gateway with call history on, fed captured Cdr events, for the history tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.app import GATEWAY
from gateway.simulator import Simulator
from tests.support.harness import Client, MakeClient, start, until
from tests.support.historydata import call

CALLS = (
    call("+7 912 000-00-00", "100", "2026-11-20 10:00:00"),
    call("100", "89120000000", "2026-11-21 11:00:00", "NO ANSWER"),
    call("9120000000", "200", "2026-11-22 12:00:00", "BUSY"),
    call("300", "400", "2026-11-23 13:00:00"),
    call("8 (912) 000 00 00", "300", "2026-11-24 14:00:00"),
)
"""Three spellings of one client's number, in five calls on five days."""


def history_section(path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "path": str(path),
        "pbx_timezone": "Europe/Moscow",
        "flush_interval": 0.02,
        "limit_max": 50,
        **extra,
    }


async def start_history(
    simulator: Simulator, aiohttp_client: MakeClient, path: Path, **extra: Any
) -> Client:
    return await start(simulator, aiohttp_client, history=history_section(path, **extra))


def recorder_of(client: Client) -> Any:
    recorder = client.app[GATEWAY].history.recorder
    assert recorder is not None
    return recorder


async def wait_written(client: Client, count: int) -> None:
    recorder = recorder_of(client)
    await until(lambda: recorder.written >= count)


async def fed(simulator: Simulator, client: Client, calls: Any = CALLS) -> None:
    before = recorder_of(client).written
    for fields in calls:
        simulator.emit(fields)
    await wait_written(client, before + len(calls))


async def history(client: Client, session: str, **params: Any) -> Any:
    client.session.cookie_jar.clear()
    response = await client.post(
        "/asterisk/history", json=params, headers={"Cookie": f'mansession_id="{session}"'}
    )
    assert response.status == 200, await response.text()
    return await response.json()


def dsts(answer: Any) -> list[str]:
    return [c["dst"] for c in answer["calls"]]
