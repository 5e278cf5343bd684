"""The npm package ``asterisk-manager`` (0.2.0), unchanged, against the AMI
door with the simulator behind the gateway (tests/node/door_client.js):
login, Ping, Command, an async Originate and its OriginateResponse, events.
``.ci/run`` installs it with ``npm ci`` in tests/node; without it the test is
skipped locally and fails under CI=true."""

from __future__ import annotations

import asyncio
import json
import os
import shutil

import pytest

from tests.support.amidoor import DoorRun
from tests.support.procs import ROOT

NODE_DIR = ROOT / "tests" / "node"
RUN_TIMEOUT = 30.0


def node_binary() -> str:
    node = shutil.which("node")
    installed = (NODE_DIR / "node_modules" / "asterisk-manager").is_dir()
    if node is None or not installed:
        if os.environ.get("CI") == "true":
            pytest.fail("node or tests/node/node_modules missing: .ci/run runs npm ci there")
        pytest.skip("node and `npm ci --prefix tests/node` are needed")
    return node


async def test_asterisk_manager_logs_in_pings_originates_and_hears_events(
    door: DoorRun,
) -> None:
    node = node_binary()
    process = await asyncio.create_subprocess_exec(
        node,
        "door_client.js",
        str(door.port),
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    assert process.returncode == 0, (stdout, stderr)
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    assert result["error"] is None
    assert (result["ping"]["response"], result["ping"]["ping"]) == ("Success", "Pong")
    assert result["command"]["message"] == "Command output follows"
    assert result["command"]["output"].startswith("Asterisk 22.10.1")
    assert result["originate"]["message"] == "Originate successfully queued"
    assert result["originateResponse"] == {"actionid": "node-orig-1", "response": "Success"}
    assert result["denied"] == "Permission denied"
    # It wrote "Event: on", which Asterisk does not read: events stay on.
    assert {"FullyBooted", "Newchannel", "Hangup"} <= set(result["events"])
