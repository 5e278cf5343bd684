"""``[ami_server]``: defaults, TLS files, the banner clients check, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.amiserver.settings import DEFAULT_PORT, AmiServerConfig
from gateway.config import parse_config
from gateway.errors import ConfigError
from tests.support.configtables import MINIMAL


def door(**keys: object) -> AmiServerConfig:
    return parse_config({**MINIMAL, "ami_server": keys}, {}).ami_server


def error_of(**keys: object) -> str:
    with pytest.raises(ConfigError) as info:
        door(**keys)
    return info.value.message


def test_off_by_default_on_localhost_5039() -> None:
    settings = parse_config(MINIMAL, {}).ami_server
    assert settings == AmiServerConfig()
    assert (settings.enabled, settings.host, settings.port) == (False, "127.0.0.1", DEFAULT_PORT)
    assert settings.banner is None  # the upstream's own line
    assert (settings.write_timeout, settings.auth_timeout) == (30.0, 30.0)
    assert settings.max_unauthenticated == 50


def test_tls_with_its_files(tmp_path: Path) -> None:
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    settings = door(tls=True, certfile=str(cert))
    assert (settings.tls, settings.certfile, settings.keyfile) == (True, str(cert), None)


def test_a_banner_that_clients_accept() -> None:
    assert door(banner="Asterisk Call Manager/5.0.2").banner == "Asterisk Call Manager/5.0.2"


@pytest.mark.parametrize(
    ("keys", "fragment"),
    [
        ({"enable": True}, "[ami_server]: unknown key 'enable' (did you mean 'enabled'?)"),
        ({"port": 70000}, "[ami_server] port: must be between 0 and 65535"),
        ({"tls": True}, "[ami_server] certfile: required with tls = true"),
        ({"certfile": "/x.pem"}, "[ami_server] certfile: only means something with tls = true"),
        ({"tls": True, "certfile": "/nonexistent.pem"}, "is not a readable file"),
        ({"banner": "My PBX 1.0"}, "[ami_server] banner: 'My PBX 1.0' must start with"),
        (
            {"banner": "Asterisk Call Manager/1\r\nEvent: Forged"},
            "[ami_server] banner: must be one line",
        ),
        ({"write_timeout": 0}, "[ami_server] write_timeout: must be"),
        ({"auth_timeout": 0.5}, "[ami_server] auth_timeout: must be at least 1"),
        ({"buffer_bytes": 1000}, "[ami_server] buffer_bytes: must be between 65536"),
        ({"max_unauthenticated": 0}, "[ami_server] max_unauthenticated: must be between 1"),
    ],
)
def test_errors_name_the_key(keys: dict[str, object], fragment: str) -> None:
    assert fragment in error_of(**keys)


def test_a_user_may_narrow_originate_results_to_its_own() -> None:
    users = {"u": {"secret": "s", "originate_response": "owner"}}
    config = parse_config({**MINIMAL, "users": users}, {})
    assert config.users["u"].originate_response.value == "owner"
    with pytest.raises(ConfigError, match=r"\[users.u\] originate_response: 'mine'"):
        parse_config({**MINIMAL, "users": {"u": {"secret": "s", "originate_response": "mine"}}}, {})
