"""``[ami]`` (gateway/config/ami.py): the gateway's own account, its secret
from the environment, TLS."""

from __future__ import annotations

from pathlib import Path

from gateway.config import parse_config
from tests.support.configtables import error_of


def test_secret_env_reads_the_environment() -> None:
    config = parse_config({"ami": {"username": "gw", "secret_env": "AMI"}}, {"AMI": "s"})
    assert config.ami.secret == "s"
    assert "not set or empty" in error_of(
        {"ami": {"username": "gw", "secret_env": "AMI"}}, {"AMI": ""}
    )


def test_tls_settings(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here: the TLS context reads it\n")
    ami = {"username": "gw", "secret": "pw", "tls": True, "tls_verify": False, "tls_ca": str(ca)}
    config = parse_config({"ami": ami}, {})
    assert config.ami.tls
    assert not config.ami.tls_verify
    assert config.ami.tls_ca == str(ca)
