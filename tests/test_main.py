from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import signal
import sys
import time
from pathlib import Path

import pytest
from aiohttp import ClientSession, CookieJar

from gateway.__main__ import _reload, _with_overrides, build_parser, main, serve
from gateway.app import GATEWAY, create_app
from gateway.config import demo_config, load_config
from gateway.simulator import Simulator
from gateway.tasks import cancel_and_wait
from tests.support.harness import until
from tests.support.procs import USERS, GatewayProcess, free_port, write_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "gateway.example.toml"


def test_check_config_prints_users(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AJAM_AMI_SECRET", "from-env")
    monkeypatch.setenv("AJAM_ADMIN_SECRET", "from-env")
    assert main(["check-config", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out.strip()


def test_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[http]\nport = 'x'\n")
    assert main(["check-config", str(bad)]) == 2
    assert "ajam-gateway:" in capsys.readouterr().err


def test_hash_secret_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("hunter2\n"))
    assert main(["hash-secret"]) == 0
    out = capsys.readouterr().out
    assert "secret_hash" in out
    assert "hunter2" not in out


def test_overrides_replace_only_what_is_given() -> None:
    args = build_parser().parse_args(["--port", "9999", "--node-id", "n2"])
    config = _with_overrides(demo_config(), args)
    assert (config.http.port, config.http.node_id, config.http.host) == (9999, "n2", "127.0.0.1")
    same = _with_overrides(demo_config(), argparse.Namespace(host=None, port=None, node_id=None))
    assert same == demo_config()


def test_a_node_id_that_nginx_cannot_route_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "gateway.toml", ami_port=5038, port=8088)
    assert main(["--config", str(config), "--node-id", "Node-1"]) == 2
    assert "--node-id: 'Node-1' must match [a-z0-9]{0,8}" in capsys.readouterr().err


async def test_demo_serves_the_readme_walkthrough(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    config = demo_config()
    config = dataclasses.replace(config, http=dataclasses.replace(config.http, port=port))
    task = asyncio.create_task(serve(config, demo=True))
    base = f"http://127.0.0.1:{port}/asterisk/rawman"
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            async with asyncio.timeout(5):
                while True:
                    with contextlib.suppress(OSError):
                        ready = await client.get(f"http://127.0.0.1:{port}/readyz")
                        if ready.status == 200:
                            break
                    await asyncio.sleep(0.05)
            login = await client.get(f"{base}?action=login&username=admin&secret=admin")
            assert await login.text() == (
                "Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
            )
            ping = await client.get(f"{base}?action=ping")
            assert (await ping.text()).startswith("Response: Success\r\nPing: Pong\r\n")
            history = await client.get(f"http://127.0.0.1:{port}/asterisk/history?limit=5")
            assert history.status == 200
            assert (await history.json())["limit"] == 5
    finally:
        await cancel_and_wait(task)
    assert "admin/admin" in capsys.readouterr().out


EMPTY_POLL = (
    "Response: Success\r\nMessage: Waiting for Event completed.\r\n\r\n"
    "Event: WaitEventComplete\r\n\r\n"
)


async def gateway_process(
    tmp_path: Path, simulator: Simulator, http: dict[str, object] | None = None
) -> GatewayProcess:
    port = free_port()
    config = write_config(tmp_path / "gateway.toml", ami_port=simulator.port, port=port, http=http)
    process = GatewayProcess(config, port, tmp_path / "gateway.log")
    await process.start()
    await process.wait_ready()
    return process


async def rawman_get(client: ClientSession, url: str, **params: str) -> str:
    response = await client.get(url, params=params)
    assert response.status == 200, await response.text()
    return await response.text()


async def held_poll(
    client: ClientSession, process: GatewayProcess, url: str, held: int = 1
) -> asyncio.Task[str]:
    await rawman_get(client, url, action="waitevent", timeout="0")  # the login's events
    poll = asyncio.create_task(rawman_get(client, url, action="waitevent", timeout="30"))
    await process.wait_polls(held)
    return poll


async def test_sigterm_drains_logs_off_and_exits(tmp_path: Path, simulator: Simulator) -> None:
    process = await gateway_process(tmp_path, simulator, {"drain_time": 5.0})
    url = f"{process.base}/asterisk/rawman"
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            await rawman_get(client, url, action="login", username="admin", secret="admin-secret")
            poll = await held_poll(client, process, url)
            began = time.monotonic()
            process.send(signal.SIGTERM)
            assert await asyncio.wait_for(poll, 5) == EMPTY_POLL
            assert await process.wait(10) == 0, process.log()
        assert time.monotonic() - began < 5  # nothing was in flight: no wait for drain_time
        assert [m.name for m in simulator.received][-1] == "Logoff"
    finally:
        await process.stop()


async def test_sighup_reloads_users_and_keeps_sessions(
    tmp_path: Path, simulator: Simulator
) -> None:
    process = await gateway_process(tmp_path, simulator)
    url = f"{process.base}/asterisk/rawman"
    jar = {"admin": CookieJar(unsafe=True), "reader": CookieJar(unsafe=True)}
    try:
        async with (
            ClientSession(cookie_jar=jar["admin"]) as admin,
            ClientSession(cookie_jar=jar["reader"]) as reader,
        ):
            await rawman_get(admin, url, action="login", username="admin", secret="admin-secret")
            await rawman_get(reader, url, action="login", username="reader", secret="reader-secret")
            poll = await held_poll(reader, process, url)
            users = {"admin": USERS["admin"]}
            write_config(process.config, ami_port=simulator.port, port=process.port, users=users)
            process.send(signal.SIGHUP)
            assert await asyncio.wait_for(poll, 5) == EMPTY_POLL
            denied = await rawman_get(reader, url, action="ping")
            assert denied == "Response: Error\r\nMessage: Permission denied\r\n\r\n"
            assert (await rawman_get(admin, url, action="ping")).startswith("Response: Success")
            process.config.write_text("not toml [")
            process.send(signal.SIGHUP)  # a broken file changes nothing
            await until(lambda: "reload refused" in process.log(), timeout=10)
            assert (await rawman_get(admin, url, action="ping")).startswith("Response: Success")
        assert process.returncode is None
    finally:
        await process.stop()


def test_reload_without_a_file_or_with_a_bad_one_changes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_config(tmp_path / "gateway.toml", ami_port=5038, port=8088)
    app = create_app(load_config(path))
    before = app[GATEWAY].config
    _reload(app, None)
    path.write_text("[ami]\nusername = 1\n")
    _reload(app, lambda: load_config(path))
    assert app[GATEWAY].config is before
    assert "SIGHUP ignored: no --config file" in caplog.text
    assert "reload refused" in caplog.text


def test_reload_logs_what_needs_a_restart(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_config(tmp_path / "gateway.toml", ami_port=5038, port=8088)
    app = create_app(load_config(path))
    write_config(path, ami_port=5039, port=8088, users={"admin": USERS["admin"]})
    _reload(app, lambda: load_config(path))
    assert set(app[GATEWAY].config.users) == {"admin"}
    assert app[GATEWAY].config.ami.port == 5038
    assert "reload: [ami] changed: it takes effect only after a restart" in caplog.text
