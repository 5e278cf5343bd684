"""``[ami_server]`` to the AMI door's settings (``gateway.amiserver.settings``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from gateway.amiserver.settings import BANNER_PREFIX, AmiServerConfig
from gateway.config import fields as cf
from gateway.config.fields import MIB, Reader, fail

MAX_BANNER: Final = 200
"""A banner is one short line; clients read it with small buffers (PAMI: 1024)."""


def _banner(where: str, value: object) -> str:
    text = cf.string(where, value)
    if not text.startswith(BANNER_PREFIX):
        raise fail(
            where,
            f"{text!r} must start with {BANNER_PREFIX!r}: clients (Asterisk-Java, PAMI,"
            " panoramisk) check it",
        )
    if len(text) > MAX_BANNER or not text.isprintable() or not text.isascii():
        raise fail(where, f"must be one line of at most {MAX_BANNER} printable ASCII characters")
    return text


_READERS: Final[Mapping[str, Reader]] = {
    "enabled": cf.boolean,
    "host": cf.nonempty,
    "port": cf.integer(0, 65535),
    "tls": cf.boolean,
    "certfile": cf.nonempty,
    "keyfile": cf.nonempty,
    "banner": _banner,
    "write_timeout": cf.number(0, 3600, open_low=True),
    "buffer_bytes": cf.integer(64 * 1024, 1024 * MIB),
    "auth_timeout": cf.number(1, 3600),
    "max_unauthenticated": cf.integer(1, 1_000_000),
    "trusted_proxies": cf.networks,
}


def parse_ami_server(table: Mapping[str, object]) -> AmiServerConfig:
    values = cf.read_section("[ami_server]", table, _READERS)
    settings = AmiServerConfig(**values)
    for key in ("certfile", "keyfile"):
        path = values.get(key)
        if path is not None and not settings.tls:
            raise fail(f"[ami_server] {key}", "only means something with tls = true")
        if path is not None and not os.path.isfile(path):
            raise fail(f"[ami_server] {key}", f"{path!r} is not a readable file")
    if settings.tls and settings.certfile is None:
        raise fail("[ami_server] certfile", "required with tls = true")
    return settings
