"""``hash-secret`` and ``digest-ha1``: a secret read without being shown,
turned into the line to paste into a ``[users.NAME]`` table.

On a terminal the secret is asked for twice with ``getpass`` (nothing is
echoed; a terminal that cannot hide input is refused rather than shown the
secret); otherwise it is the one line on stdin, so that scripts can pipe it.
Nothing printed ever contains the secret.
"""

from __future__ import annotations

import getpass
import warnings
from typing import TextIO

from gateway.access.credentials import digest_ha1, hash_secret
from gateway.errors import ConfigError


def one_line(text: str) -> str:
    """The secret piped on stdin: only the line ending is removed, spaces are part of it."""
    lines = text.splitlines()
    if len(lines) != 1 or not lines[0]:
        raise ConfigError("give exactly one non-empty line on stdin")
    return lines[0]


def ask() -> str:
    """The secret typed twice on the terminal, never echoed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", getpass.GetPassWarning)
        try:
            first = getpass.getpass("Secret: ")
            again = getpass.getpass("Again: ")
        except getpass.GetPassWarning:
            raise ConfigError(
                "this terminal cannot hide what is typed: pipe the secret on stdin instead"
            ) from None
        except EOFError:
            raise ConfigError("no secret given") from None
    if first != again:
        raise ConfigError("the two entries differ; nothing printed")
    if not first:
        raise ConfigError("the secret is empty")
    return first


def read_secret(stdin: TextIO) -> str:
    return ask() if stdin.isatty() else one_line(stdin.read())


def hash_line(secret: str) -> str:
    return f'secret_hash = "{hash_secret(secret)}"'


def hash_secret_cli(stdin_text: str) -> str:
    """The ``secret_hash`` line for the secret piped on stdin."""
    return hash_line(one_line(stdin_text))


def ha1_line(username: str, realm: str, secret: str) -> str:
    """The ``digest_ha1`` line; it is bound to this spelling of the name and this realm."""
    ha1 = digest_ha1(username, realm, secret)
    return f'digest_ha1 = "{ha1}"   # md5("{username}:{realm}:...")'
