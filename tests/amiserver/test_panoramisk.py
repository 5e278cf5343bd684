"""panoramisk (PyPI), unchanged, against the AMI door with the simulator
behind the gateway: it logs in, pings, originates (async), runs Command and
receives events, as it would against Asterisk itself."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.simulator import Simulator
from tests.support.amidoor import DoorRun
from tests.support.harness import until

panoramisk = pytest.importorskip("panoramisk", reason="pip install -e '.[test]' brings panoramisk")


async def connected(port: int, **config: Any) -> Any:
    manager = panoramisk.Manager(
        loop=asyncio.get_running_loop(),
        host="127.0.0.1",
        port=port,
        username="admin",
        secret="admin-secret",
        ping_delay=3600,
        **config,
    )
    await manager.connect()
    async with asyncio.timeout(5):
        while not manager.authenticated:
            await asyncio.sleep(0.01)
    return manager


async def test_login_ping_command_originate_and_events(door: DoorRun, simulator: Simulator) -> None:
    manager = await connected(door.port)
    seen: list[str] = []
    manager.register_event("*", lambda _, event: seen.append(event.event))
    try:
        pong = await asyncio.wait_for(manager.send_action({"Action": "Ping"}), 5)
        assert pong.success
        assert pong.ping == "Pong"
        command = await asyncio.wait_for(manager.send_command("core show version"), 5)
        assert command.success
        assert command.output.startswith("Asterisk 22.10.1")
        # An async Originate completes on its OriginateResponse (panoramisk
        # waits for it, by the ActionID it gave): the door must deliver it.
        answers = await asyncio.wait_for(
            manager.send_action(
                {
                    "Action": "Originate",
                    "Channel": "Local/100@test",
                    "Application": "Wait",
                    "Data": "1",
                    "Async": "true",
                }
            ),
            10,
        )
        assert [m.get("Response") for m in answers] == ["Success", "Success"]
        assert answers[-1].event == "OriginateResponse"
        await until(lambda: "Hangup" in seen and "Newchannel" in seen, 10)
        listed = await asyncio.wait_for(
            manager.send_action({"Action": "CoreShowChannels"}, as_list=True), 5
        )
        assert listed[-1].event == "CoreShowChannelsComplete"
        denied = await asyncio.wait_for(
            manager.send_action({"Action": "Command", "Command": "module load x.so"}), 5
        )
        assert denied.message == "Permission denied"
    finally:
        manager.close()
