"""hash-secret and digest-ha1: the secret is asked for twice on a terminal
with nothing echoed (a real pseudo-terminal shows what would be), read as
one line from a pipe, and never printed."""

from __future__ import annotations

import fcntl
import hashlib
import os
import select
import subprocess
import sys
import termios
import time
import tomllib
from pathlib import Path

import pytest

from gateway.access.credentials import hash_secret, verify_secret
from gateway.config import parse_config
from tests.support.clirun import gateway, last_line
from tests.support.procs import ROOT, checkout_env

SECRET = "hunter2 with spaces"


def user_with(line: str) -> object:
    config = parse_config(
        {"ami": {"username": "g", "secret": "s"}, "users": {"u": tomllib.loads(line)}}, {}
    )
    return config.user("u")


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def controlling_terminal() -> None:
    """In the child: stdin, a pty, becomes its controlling terminal (getpass opens /dev/tty)."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def on_terminal(args: list[str], answers: list[tuple[str, str]]) -> tuple[int, str]:
    """Run the gateway on a pseudo-terminal; answer each prompt; all it showed."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", *args],
        cwd=ROOT,
        env=checkout_env(),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=controlling_terminal,  # runs between fork and exec: an ioctl only
    )
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + 30
    pending = list(answers)
    try:
        while time.monotonic() < deadline:
            if pending and shown.endswith(pending[0][0].encode()):
                os.write(master, pending.pop(0)[1].encode() + b"\n")
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            elif proc.poll() is not None:
                break
        return proc.wait(10), shown.decode()
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_hash_secret_on_a_terminal_shows_nothing_typed() -> None:
    code, shown = on_terminal(["hash-secret"], [("Secret: ", SECRET), ("Again: ", SECRET)])
    assert code == 0, shown
    assert SECRET not in shown
    assert "hunter2" not in shown
    line = last_line(shown)
    assert line.startswith('secret_hash = "scrypt$')
    user = user_with(line)
    assert verify_secret(user, SECRET)  # type: ignore[arg-type]


def test_two_different_entries_print_nothing() -> None:
    code, shown = on_terminal(["hash-secret"], [("Secret: ", SECRET), ("Again: ", "other")])
    assert code == 2
    assert last_line(shown) == "ajam-gateway: the two entries differ; nothing printed"
    assert "secret_hash" not in shown


def test_digest_ha1_on_a_terminal() -> None:
    code, shown = on_terminal(["digest-ha1", "bob"], [("Secret: ", SECRET), ("Again: ", SECRET)])
    assert code == 0, shown
    assert SECRET not in shown
    ha1 = md5(f"bob:asterisk:{SECRET}")
    assert last_line(shown) == f'digest_ha1 = "{ha1}"   # md5("bob:asterisk:...")'


def test_hash_secret_from_a_pipe() -> None:
    result = gateway("hash-secret", stdin=SECRET + "\n")
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert verify_secret(user_with(result.stdout), SECRET)  # type: ignore[arg-type]


@pytest.mark.parametrize("stdin", ["", "\n", "a\nb\n"])
def test_a_pipe_gives_exactly_one_line(stdin: str) -> None:
    for command in (["hash-secret"], ["digest-ha1", "bob"]):
        result = gateway(*command, stdin=stdin)
        assert result.returncode == 2
        assert result.stderr == "ajam-gateway: give exactly one non-empty line on stdin\n"


def test_digest_ha1_realm_from_the_option() -> None:
    result = gateway("digest-ha1", "--realm", "pbx.example", "bob", stdin=SECRET)
    assert result.returncode == 0, result.stderr
    assert f'"{md5(f"bob:pbx.example:{SECRET}")}"' in result.stdout
    bad = gateway("digest-ha1", "--realm", 'a"b', "bob", stdin=SECRET)
    assert bad.returncode == 2
    assert bad.stderr.startswith("ajam-gateway: --realm: 'a\"b' must be 1-64 characters")


def test_digest_ha1_refuses_a_name_digest_cannot_carry() -> None:
    result = gateway("digest-ha1", "bob:x", stdin=SECRET)
    assert result.returncode == 2
    assert "USER: a user name is 1-79 characters, no space or ':'" in result.stderr


def test_digest_ha1_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[ami]\nusername = "g"\nsecret_env = "AJAM_AMI_SECRET"\n'
        '[http]\ndigest_realm = "PBX One"\n'
        f'[users.Bob]\nsecret_hash = "{hash_secret("x")}"\nread = "call"\n'
        '[users.carol]\nsecret = "plain"\n'
    )
    env_file = tmp_path / "secrets.env"
    env_file.write_text("AJAM_AMI_SECRET=x\n")
    argv = ("digest-ha1", "--config", str(config), "--env-file", str(env_file))
    result = gateway(*argv, "bob", stdin=SECRET)
    assert result.returncode == 0, result.stderr
    # The config's realm, and the name as the config spells it.
    assert f'"{md5(f"Bob:PBX One:{SECRET}")}"' in result.stdout
    carol = gateway(*argv, "carol", stdin=SECRET)
    assert carol.stderr == "warning: carol has a plain secret: digest_ha1 is ignored\n"
    nobody = gateway(*argv, "dave", stdin=SECRET)
    assert nobody.returncode == 2
    assert nobody.stderr == f"ajam-gateway: {config}: no [users.dave] table\n"
