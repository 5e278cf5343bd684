"""``[http]`` and ``[limits]`` (gateway/config/http.py): normalised values,
Digest keys, the static folder."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.errors import ConfigError
from tests.support.configtables import MINIMAL, error_of, with_


def test_http_normalisation() -> None:
    http = parse_config(
        with_(http={"prefix": "/ajam/", "cookie_samesite": "lax", "trusted_proxies": "10.1.2.3/8"}),
        {},
    ).http
    assert http.prefix == "/ajam"
    assert http.cookie_samesite == "Lax"
    assert http.trusted_proxies == (ipaddress.ip_network("10.0.0.0/8"),)
    assert parse_config(with_(http={"prefix": "/"}), {}).http.prefix == ""
    assert parse_config(with_(http={"port": 0}), {}).http.port == 0
    assert parse_config(with_(http={"cookie_path": "/ajam"}), {}).http.cookie_path == "/ajam"


def test_digest_keys() -> None:
    default = parse_config(MINIMAL, {})
    assert (default.http.digest_realm, default.http.digest_nonce_lifetime) == ("asterisk", 60)
    assert default.limits.digest_pending_nonces == 10_000
    custom = parse_config(
        with_(
            http={"digest_realm": "PBX one", "digest_nonce_lifetime": 30},
            limits={"digest_pending_nonces": 50},
        ),
        {},
    )
    assert (custom.http.digest_realm, custom.http.digest_nonce_lifetime) == ("PBX one", 30)
    assert custom.limits.digest_pending_nonces == 50


@pytest.mark.parametrize(
    ("http", "fragment"),
    [
        ({"digest_realm": 'a"b'}, "[http] digest_realm: 'a\"b' must be 1-64 characters"),
        ({"digest_realm": "a\\b"}, "[http] digest_realm:"),
        ({"digest_realm": ""}, "[http] digest_realm:"),
        ({"digest_realm": "x\ny"}, "[http] digest_realm:"),
        ({"digest_nonce_lifetime": 0}, "[http] digest_nonce_lifetime: must be between 1 and 3600"),
    ],
)
def test_bad_digest_keys(http: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(with_(http=http), {})
    assert fragment in str(info.value)


def test_static_dir_must_be_a_directory(tmp_path: Path) -> None:
    config = parse_config(with_(http={"static_dir": str(tmp_path)}), {})
    assert config.http.static_dir == str(tmp_path)
    assert parse_config(MINIMAL, {}).http.static_dir is None
    missing = tmp_path / "static-http"
    assert error_of(with_(http={"static_dir": str(missing)})) == (
        f"[http] static_dir: {str(missing)!r} is not a directory"
    )
    (tmp_path / "file").write_text("")
    assert "is not a directory" in error_of(with_(http={"static_dir": str(tmp_path / "file")}))
    assert "[http] static_dir" in error_of(with_(http={"static_dir": ""}))
