"""hash-secret and check-config, without the CLI around them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gateway.access.credentials import verify_secret
from gateway.cli import check_config_report, hash_secret_cli
from gateway.config import demo_config, load_config, parse_config
from gateway.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "gateway.example.toml"
ENV = {"AJAM_AMI_SECRET": "a", "AJAM_ADMIN_SECRET": "b"}


def test_hash_secret_cli_gives_a_pasteable_line() -> None:
    line = hash_secret_cli("my secret \n")
    assert line.startswith('secret_hash = "scrypt$')
    table = tomllib.loads(line)
    config = parse_config({"ami": {"username": "g", "secret": "s"}, "users": {"u": table}}, {})
    user = config.user("u")
    assert user is not None
    assert verify_secret(user, "my secret ")  # spaces are part of the secret
    assert not verify_secret(user, "my secret")


def test_hash_secret_cli_accepts_crlf_and_no_newline() -> None:
    for text in ("pw\r\n", "pw"):
        user_table = tomllib.loads(hash_secret_cli(text))
        config = parse_config(
            {"ami": {"username": "g", "secret": "s"}, "users": {"u": user_table}}, {}
        )
        user = config.user("u")
        assert user is not None
        assert verify_secret(user, "pw")


@pytest.mark.parametrize("text", ["", "\n", "a\nb\n"])
def test_hash_secret_cli_refuses_empty_or_several_lines(text: str) -> None:
    with pytest.raises(ConfigError, match="exactly one non-empty line"):
        hash_secret_cli(text)


def test_report_on_the_example() -> None:
    summary, warnings = check_config_report(load_config(EXAMPLE, ENV))
    assert "user crm:" in summary
    assert "  write: call,originate" in summary
    assert "  login: plain login, HTTP Basic\n" in summary
    assert "from: permit 192.0.2.0/24; deny all others" in summary
    assert any(w.startswith("crm: only secret_hash") for w in warnings)
    assert any(w.startswith("ops: no plain secret: MD5 challenge") for w in warnings)
    assert any(w.startswith("ops: permit without deny") for w in warnings)
    assert any(w.startswith("admin: write includes command") for w in warnings)
    assert not any(w.startswith("wallboard") for w in warnings)


def test_report_warnings() -> None:
    config = parse_config(
        {
            "ami": {"username": "g", "secret": "s"},
            "http": {"host": "0.0.0.0", "cors_origins": "*"},
            "users": {
                "idle": {"secret": "x"},
                "typo": {"secret": "x", "write": "call", "actions_allow": ["Orginate"]},
                "both": {"secret": "x", "digest_ha1": "f12027a4cd4bd3c05bca9cc6685d4224"},
            },
        },
        {},
    )
    summary, warnings = check_config_report(config)
    assert "HTTP: 0.0.0.0:8088/asterisk" in summary
    assert "idle: read and write are both empty: the user can only Ping" in warnings
    assert "typo: action 'Orginate' is unknown (a typo?)" in warnings
    assert "both: digest_ha1 is ignored when a plain secret is set" in warnings
    assert any("TLS proxy" in w for w in warnings)
    assert any("cors_origins '*'" in w for w in warnings)


def test_report_names_the_ami_door_and_warns_of_it_in_clear() -> None:
    data = {"ami": {"username": "g", "secret": "s"}, "users": {"u": {"secret": "x"}}}
    summary, warnings = check_config_report(parse_config(data, {}))
    assert "\nAMI door: off\n" in summary
    door = {"enabled": True, "host": "0.0.0.0", "port": 5040}
    summary, warnings = check_config_report(parse_config({**data, "ami_server": door}, {}))
    assert "\nAMI door: 0.0.0.0:5040\n" in summary
    assert any(w.startswith("[ami_server] host 0.0.0.0 without tls") for w in warnings)


def test_report_without_users() -> None:
    summary, warnings = check_config_report(
        parse_config({"ami": {"username": "g", "secret": "s"}}, {})
    )
    assert summary.startswith("AMI: g@127.0.0.1:5038\n")
    assert warnings == ["no [users.NAME] table: nobody can log in"]


def test_report_on_demo() -> None:
    summary, _ = check_config_report(demo_config())
    assert "user admin:" in summary
    assert "user reader:" in summary
    assert "  read: system,call" in summary


@pytest.mark.parametrize(
    ("history", "line", "warning"),
    [
        ({}, "history: off", None),
        ({"enabled": True, "backend": "mysql"}, "history: the PBX's cdr table (mysql)", None),
        ({"enabled": True, "path": ":memory:"}, "history: SQLite :memory:", None),
        (
            {"enabled": True, "path": "h.sqlite3"},
            "history: SQLite h.sqlite3",
            "[history] path 'h.sqlite3' is relative to the working directory: / under systemd",
        ),
        (
            {"enabled": True, "path": "/srv/h.sqlite3"},
            "history: SQLite /srv/h.sqlite3",
            "[history] path '/srv/h.sqlite3' is outside /var/lib/ajam-gateway: the shipped units",
        ),
        (
            {"enabled": True, "path": "/var/lib/ajam-gateway/{node_id}/h.sqlite3"},
            "history: SQLite /var/lib/ajam-gateway//h.sqlite3",
            "[history] path '/var/lib/ajam-gateway/{node_id}/h.sqlite3' has {node_id} but the",
        ),
        ({"enabled": True, "path": "/var/lib/ajam-gateway/h.sqlite3"}, None, None),
    ],
)
def test_report_on_the_history(
    history: dict[str, object], line: str | None, warning: str | None
) -> None:
    config = parse_config({"ami": {"username": "g", "secret": "s"}, "history": history}, {})
    summary, warnings = check_config_report(config)
    if line is not None:
        assert f"\n{line}\n" in summary
    found = [w for w in warnings if w.startswith("[history]")]
    expected = [warning] if warning else []
    assert len(found) == len(expected), found
    for text, start in zip(found, expected, strict=True):
        assert text.startswith(start)
