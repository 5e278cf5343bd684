"""TOML configuration: the example file, defaults, and clear errors."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gateway.access.classes import ALL, parse_classes
from gateway.access.credentials import verify_secret
from gateway.access.identity import OriginateResponses
from gateway.config import (
    AmiConfig,
    AmiServerConfig,
    Config,
    HttpConfig,
    LimitsConfig,
    LogConfig,
    PushSettings,
    demo_config,
    load_config,
    parse_config,
)
from gateway.errors import ConfigError
from tests.support.configtables import MINIMAL, error_of, with_
from tests.support.docs import CONFIGURATION_PAGE, table_after

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "gateway.example.toml"
ENV = {"AJAM_AMI_SECRET": "ami-pw", "AJAM_ADMIN_SECRET": "admin-pw"}


def test_example_round_trip() -> None:
    config = load_config(EXAMPLE, ENV)
    assert config.ami == AmiConfig(username="ajam-gateway", secret="ami-pw")
    assert config.http.prefix == "/asterisk"
    assert config.http.trusted_proxies == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
    )
    assert config.limits == LimitsConfig()
    assert config.events.ring_size == 100_000
    assert config.log == LogConfig()
    assert set(config.users) == {"admin", "crm", "ops", "wallboard"}
    admin = config.users["admin"]
    assert admin.secret == "admin-pw"
    assert admin.read == ALL
    assert admin.write == ALL
    crm = config.users["crm"]
    assert crm.write == parse_classes("call,originate")
    assert crm.read == parse_classes("call,agent,cdr")
    assert crm.actions_allow is not None
    assert "Originate" in crm.actions_allow
    assert len(crm.event_filter.rules) == 3
    assert verify_secret(crm, "change-me-too")
    ops = config.users["ops"]
    assert ops.permit == (ipaddress.ip_network("192.0.2.0/24"),)
    assert ops.digest_ha1 == "f12027a4cd4bd3c05bca9cc6685d4224"
    assert config.history.enabled
    assert config.history.pbx_timezone.key == "Europe/Moscow"
    assert config.history.mysql.table == "cdr"
    assert config.ami_server == AmiServerConfig()
    assert crm.originate_response is OriginateResponses.OWNER
    assert admin.originate_response is OriginateResponses.ALL
    assert not config.demo


def test_example_documents_every_key() -> None:
    text = EXAMPLE.read_text()
    tables = (
        (AmiConfig, "ami"),
        (HttpConfig, "http"),
        (LimitsConfig, "limits"),
        (LogConfig, "log"),
        (PushSettings, "push"),
        (AmiServerConfig, "ami_server"),
    )
    for cls, table in tables:
        for f in dataclasses.fields(cls):
            assert f"{f.name} =" in text, f"[{table}] {f.name} missing from the example"
    for key in ("secret_hash", "secret_env", "digest_ha1", "permit", "deny", "eventfilter"):
        assert f"{key} =" in text
    for key in ("actions_allow", "actions_deny", "max_sessions", "ring_size", "originate_response"):
        assert f"{key} =" in text


def test_the_limits_table_names_every_key() -> None:
    """docs/configuration.md, "Limits and timeouts": one table, every [limits] key in it."""
    table = table_after(CONFIGURATION_PAGE.read_text(), "## Limits and timeouts")
    keys = [f.name for f in dataclasses.fields(LimitsConfig)]
    for key in [*keys, "ring_size", "ring_bytes", "reply_bytes", "httptimeout", "unauth_timeout"]:
        assert re.search(rf"[` ]{key}`", table), key  # `key`, or `[table] key`


def test_example_defaults_match_the_dataclasses() -> None:
    data = tomllib.loads(EXAMPLE.read_text())
    classes: tuple[tuple[type[Any], str], ...] = (
        (AmiConfig, "ami"),
        (HttpConfig, "http"),
        (LimitsConfig, "limits"),
        (PushSettings, "push"),
        (AmiServerConfig, "ami_server"),
    )
    for cls, table in classes:
        for f in dataclasses.fields(cls):
            if f.name in data[table] and f.name not in ("username", "trusted_proxies"):
                value = data[table][f.name]
                expected = getattr(cls(), f.name)
                assert (tuple(value) if isinstance(value, list) else value) == expected, f.name


def test_minimal_config_takes_defaults() -> None:
    config = parse_config(MINIMAL, {})
    assert config.http == HttpConfig()
    assert config.users == {}
    assert config.waitevent_cap() == 50


def test_waitevent_cap() -> None:
    config = parse_config(with_(limits={"waitevent_max": 20}), {})
    assert config.waitevent_cap() == 20
    short = parse_config(with_(http={"httptimeout": 5}), {})
    assert short.waitevent_cap() == 0


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            {"ami": {"username": "gw", "secret": "pw", "prot": 1}},
            "[ami]: unknown key 'prot' (did you mean 'port'?)",
        ),
        ({**MINIMAL, "htpp": {}}, "top level: unknown key 'htpp' (did you mean 'http'?)"),
        ({}, "[ami]: required"),
        ({"ami": {"secret": "pw"}}, "[ami] username: required"),
        ({"ami": {"username": "gw"}}, "[ami]: give exactly one of 'secret' and 'secret_env'"),
        ({"ami": {"username": "gw", "secret": "a", "secret_env": "B"}}, "exactly one"),
        (
            {"ami": {"username": "gw", "secret_env": "NOPE"}},
            "[ami] secret_env: environment variable 'NOPE'",
        ),
        (
            {"ami": {"username": "gw", "secret": "pw", "port": 70000}},
            "[ami] port: must be between 1 and 65535",
        ),
        (
            {"ami": {"username": "gw", "secret": "pw", "port": "5038"}},
            "[ami] port: must be an integer",
        ),
        ({"ami": {"username": "gw", "secret": "pw", "tls": 1}}, "[ami] tls: must be true or false"),
        (
            {"ami": {"username": "gw", "secret": "pw", "tls_verify": False}},
            "[ami] tls_verify: only means something with tls = true",
        ),
        (
            {"ami": {"username": "gw", "secret": "pw", "tls_ca": "/etc/ca.pem"}},
            "[ami] tls_ca: only means something with tls = true",
        ),
        (
            {"ami": {"username": "gw", "secret": "pw", "tls": True, "tls_ca": "/nonexistent"}},
            "[ami] tls_ca: '/nonexistent' is not a readable file",
        ),
        (with_(http={"drain_time": -1}), "[http] drain_time: must be at least 0"),
        (
            {"ami": {"username": "gw", "secret": "pw", "connect_timeout": -1}},
            "[ami] connect_timeout: must be above 0",
        ),
        (
            {"ami": {"username": "gw", "secret": "pw", "action_timeout": 0}},
            "[ami] action_timeout: must be above 0",
        ),
        (
            {"ami": {"username": "gw", "secret": "pw", "ping_interval": True}},
            "[ami] ping_interval: must be a number",
        ),
        (
            {"ami": {"username": "gw", "secret": "pw", "reconnect_min": 5, "reconnect_max": 1}},
            "[ami] reconnect_max",
        ),
        ({"ami": "x"}, "[ami]: must be a table"),
        (with_(http={"prefix": "asterisk"}), "[http] prefix: 'asterisk' must start with '/'"),
        (with_(http={"prefix": "/a b"}), "[http] prefix"),
        (with_(http={"node_id": "Node1"}), "[http] node_id: 'Node1' must match [a-z0-9]{0,8}"),
        (with_(http={"node_id": "abcdefghi"}), "[http] node_id"),
        (with_(http={"httptimeout": 0}), "[http] httptimeout: must be between 1"),
        (
            with_(http={"trusted_proxies": ["10.0.0.0/33"]}),
            "[http] trusted_proxies: '10.0.0.0/33' is not a network",
        ),
        (with_(http={"trusted_proxies": 5}), "[http] trusted_proxies: must be a string or a list"),
        (with_(http={"cors_origins": ["https://x.example/path"]}), "[http] cors_origins"),
        (with_(http={"cors_origins": "*", "cors_credentials": True}), "'*' cannot be used"),
        (
            with_(http={"cookie_samesite": "Relaxed"}),
            "[http] cookie_samesite: 'Relaxed' must be Strict, Lax or None",
        ),
        (with_(http={"cookie_samesite": "none"}), "needs cookie_secure"),
        (with_(http={"cookie_path": "asterisk"}), "[http] cookie_path"),
        (with_(http={"cookie_path": "/a;b"}), "[http] cookie_path"),
        (with_(limits={"max_body": 0}), "[limits] max_body: must be between 1"),
        (with_(limits={"login_fail_delay": -0.5}), "[limits] login_fail_delay: must be at least 0"),
        (with_(limits={"rate_per_session": 0}), "[limits] rate_per_session: must be above 0"),
        (with_(limits={"max_headers": 2}), "[limits] max_headers: must be between 8"),
        (with_(limits={"max_header_size": 10}), "[limits] max_header_size: must be between 256"),
        (with_(limits={"waitevent_max": 61}), "[limits] waitevent_max: must not exceed"),
        (with_(limits={"login_fail_delay": float("nan")}), "[limits] login_fail_delay"),
        (with_(events={"ring_size": 0}), "[events] ring_size"),
        (with_(events={"size": 1}), "[events]: unknown key 'size'"),
        (with_(history=[1]), "[history]: must be a table"),
        (with_(log={"format": "xml"}), "[log] format: 'xml' must be one of text, json"),
        (with_(log={"access": "no"}), "[log] access: must be true or false"),
    ],
)
def test_errors_name_the_key(data: dict[str, Any], fragment: str) -> None:
    assert fragment in error_of(data)


def test_log_table() -> None:
    config = parse_config(with_(log={"format": "json", "access": False}), {})
    assert config.log == LogConfig(format="json", access=False)


def test_history_is_parsed_and_checked() -> None:
    config = parse_config(with_(history={"path": "/var/lib/x.db", "retention_days": 7}), {})
    assert config.history.path == "/var/lib/x.db"
    assert config.history.retention_days == 7
    with pytest.raises(ConfigError, match=r"\[history\]: unknown key 'keep'"):
        parse_config(with_(history={"keep": 1}), {})


def test_users_are_found_case_insensitively() -> None:
    config = parse_config(with_(users={"Bob": {"secret": "x"}}), {})
    assert config.user("BOB") is config.user("bob")
    user = config.user("bob")
    assert user is not None
    assert user.name == "Bob"
    assert config.user("alice") is None


def test_load_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml", {})
    bad = tmp_path / "bad.toml"
    bad.write_text("[ami\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, {})


def test_config_is_frozen() -> None:
    config = parse_config(MINIMAL, {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.demo = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.users["x"] = config.users.get("x")  # type: ignore[index]


def test_demo_config() -> None:
    config = demo_config()
    assert config.demo
    assert (config.http.host, config.http.port, config.http.prefix) == (
        "127.0.0.1",
        8088,
        "/asterisk",
    )
    assert (config.ami.host, config.ami.username, config.ami.secret) == (
        "127.0.0.1",
        "admin",
        "admin-secret",
    )
    admin, reader = config.user("admin"), config.user("reader")
    assert admin is not None
    assert reader is not None
    assert (admin.read, admin.write) == (ALL, ALL)
    assert (reader.read, reader.write) == (parse_classes("call,system"), 0)
    assert verify_secret(admin, "admin")
    assert verify_secret(reader, "reader")
    moved = dataclasses.replace(config, ami=dataclasses.replace(config.ami, port=40000))
    assert isinstance(moved, Config)
    assert moved.ami.port == 40000
