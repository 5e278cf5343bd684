"""``[ami]`` to the AMI link's settings (``gateway.ami.settings``): the
gateway's own account on Asterisk, its secret (inline or from the
environment), TLS and the link's timings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from gateway.ami.settings import AmiConfig
from gateway.config import fields as cf
from gateway.config.fields import Reader, fail

_AMI_READERS: Final[Mapping[str, Reader]] = {
    "host": cf.nonempty,
    "port": cf.integer(1, 65535),
    "username": cf.nonempty,
    "secret": cf.nonempty,
    "secret_env": cf.nonempty,
    "tls": cf.boolean,
    "tls_verify": cf.boolean,
    "tls_ca": cf.nonempty,
    "connect_timeout": cf.number(0, 3600, open_low=True),
    "action_timeout": cf.number(0, 3600, open_low=True),
    "ping_interval": cf.number(0, 3600, open_low=True),
    "reconnect_min": cf.number(0, 3600, open_low=True),
    "reconnect_max": cf.number(0, 3600, open_low=True),
}


def parse_ami(table: Mapping[str, object], env: Mapping[str, str]) -> AmiConfig:
    values = cf.read_section("[ami]", table, _AMI_READERS)
    if "username" not in values:
        raise fail("[ami] username", "required: the gateway's own AMI account")
    if ("secret" in values) == ("secret_env" in values):
        raise fail("[ami]", "give exactly one of 'secret' and 'secret_env'")
    if "secret_env" in values:
        values["secret"] = cf.env_secret("[ami] secret_env", values.pop("secret_env"), env)
    ami = AmiConfig(**values)
    _check_tls(ami, values)
    if ami.reconnect_max < ami.reconnect_min:
        raise fail("[ami] reconnect_max", "must not be below reconnect_min")
    return ami


def _check_tls(ami: AmiConfig, values: Mapping[str, object]) -> None:
    for key in ("tls_verify", "tls_ca"):
        if key in values and not ami.tls:
            raise fail(f"[ami] {key}", "only means something with tls = true")
    if ami.tls_ca is not None and not os.path.isfile(ami.tls_ca):
        raise fail("[ami] tls_ca", f"{ami.tls_ca!r} is not a readable file")
