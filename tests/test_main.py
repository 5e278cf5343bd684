from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import socket
import sys
from pathlib import Path

import pytest
from aiohttp import ClientSession, CookieJar

from gateway.__main__ import _with_overrides, build_parser, main, serve
from gateway.config import demo_config

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert "admin/admin" in capsys.readouterr().out
