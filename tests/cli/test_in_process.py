"""The same commands run in this process, where coverage sees them: the
process-level tests beside this file show the exit codes and the terminal."""

from __future__ import annotations

import dataclasses
import getpass
import io
import socket
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.__main__ import main, serve
from gateway.cli.secrets import ask
from gateway.config import demo_config
from gateway.errors import ConfigError, StartupError
from tests.support.procs import free_port


def answers(*typed: str) -> Callable[[str], str]:
    replies: Iterator[str] = iter(typed)

    def typing(prompt: str = "") -> str:
        return next(replies)

    return typing


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (("a", "b"), "the two entries differ; nothing printed"),
        (("", ""), "the secret is empty"),
    ],
)
def test_ask_refuses(monkeypatch: pytest.MonkeyPatch, typed: tuple[str, str], message: str) -> None:
    monkeypatch.setattr(getpass, "getpass", answers(*typed))
    with pytest.raises(ConfigError, match=message):
        ask()


def test_ask_without_a_terminal_that_hides_input(monkeypatch: pytest.MonkeyPatch) -> None:
    def echoing(prompt: str = "") -> str:
        warnings.warn("Can not control echo on the terminal.", getpass.GetPassWarning, 2)
        return "shown"

    monkeypatch.setattr(getpass, "getpass", echoing)
    with pytest.raises(ConfigError, match="this terminal cannot hide what is typed: pipe"):
        ask()


def test_ask_at_end_of_input(monkeypatch: pytest.MonkeyPatch) -> None:
    def closed(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", closed)
    with pytest.raises(ConfigError, match="no secret given"):
        ask()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_digest_ha1_asks_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", answers("pw", "pw"))
    assert main(["digest-ha1", "--realm", "r", "bob"]) == 0
    # md5("bob:r:pw")
    assert capsys.readouterr().out.startswith('digest_ha1 = "1d455169e830013b624fffd041f78fc7"')


def test_ctrl_c_at_the_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(prompt: str = "") -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", interrupted)
    assert main(["hash-secret"]) == 130


def test_check_config_with_an_env_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[ami]\nusername = "g"\nsecret_env = "AJAM_AMI_SECRET"\n'
        f'[history]\nenabled = true\npath = "{tmp_path}/{{node_id}}/h.sqlite3"\n'
    )
    env = tmp_path / "env"
    env.write_text("AJAM_AMI_SECRET=x\nAJAM_AMI_SECRET=y\n")
    assert main(["check-config", "--env-file", str(env), "--node-id", "n1", str(config)]) == 0
    out, err = capsys.readouterr()
    assert f"history: SQLite {tmp_path}/n1/h.sqlite3\n" in out
    assert f"warning: {env}:2: AJAM_AMI_SECRET set again (first on line 1)" in err
    config.write_text(config.read_text().replace(f"{tmp_path}/{{node_id}}", str(config)))
    assert main(["check-config", "--env-file", str(env), str(config)]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_digest_ha1_with_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[ami]\nusername = "g"\nsecret = "s"\n[http]\ndigest_realm = "R"\n'
        '[users.Bob]\nsecret = "pw"\n'
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO("pw\n"))
    assert main(["digest-ha1", "--config", str(config), "bob"]) == 0
    out, err = capsys.readouterr()
    assert 'md5("Bob:R:...")' in out
    assert err == "warning: Bob has a plain secret: digest_ha1 is ignored\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO("pw\n"))
    assert main(["--config", str(config), "digest-ha1", "--realm", "other", "bob"]) == 0
    assert 'md5("Bob:other:...")' in capsys.readouterr().out
    assert main(["digest-ha1", "--config", str(config), "dave"]) == 2


async def test_serve_names_a_port_in_use() -> None:
    port = free_port()
    config = demo_config()
    config = dataclasses.replace(config, http=dataclasses.replace(config.http, port=port))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        with pytest.raises(StartupError, match=rf"on 127\.0\.0\.1:{port}: the port is already"):
            await serve(config, demo=True)


async def test_serve_names_the_ami_doors_port_in_use() -> None:
    port = free_port()
    config = demo_config()
    door = dataclasses.replace(config.ami_server, enabled=True, port=port)
    http = dataclasses.replace(config.http, port=free_port())
    config = dataclasses.replace(config, ami_server=door, http=http)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        with pytest.raises(StartupError) as raised:
            await serve(config, demo=True)
    assert str(raised.value).startswith(
        f"cannot listen for AMI on 127.0.0.1:{port}: the port is already in use,"
    )
    assert "choose another [ami_server] port" in str(raised.value)


def test_main_exits_1_on_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        assert main(["--demo", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ajam-gateway: cannot listen for HTTP on 127.0.0.1:{port}: ")
    assert err.count("\n") == 1
