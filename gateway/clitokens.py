"""Asterisk's CLI words, and per-user allowlists of command prefixes.

``Action: Command`` hands its text to ``ast_cli_command``, which splits it
with main/cli.c's ``parse_args`` before it looks the command up.  Restated
(never copied), that tokeniser:

* skips leading ``isspace`` bytes (C locale: space, \\t, \\n, \\v, \\f, \\r);
* splits words on runs of space and tab only, outside quotes and escapes;
* a ``"`` toggles quoting and is dropped; a quote that opens after blanks
  starts a word even when empty (``""`` is an empty word);
* a backslash is dropped and makes the next byte ordinary (``mod\\ule`` is
  ``module``, ``\\"`` a quote, ``\\ `` a space inside a word);
* keeps at most ``AST_MAX_ARGS - 1`` words: the check runs before each
  byte, so the last kept word has one byte and the rest is dropped.

Commands are then found word by word with ``strcasecmp`` (ASCII case
folding), so a prefix here matches whole words, ASCII case-insensitively.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from gateway.astvalues import ascii_lower

AST_MAX_ARGS: Final = 64
"""include/asterisk/cli.h; parse_args keeps AST_MAX_ARGS - 1 words."""
_LEADING: Final = " \t\n\v\f\r"
"""isspace() in the C locale."""

Prefix = tuple[str, ...]
"""A command prefix: lower-case words."""

DEFAULT_COMMANDS_ALLOW: Final[tuple[str, ...]] = (
    "core show",
    "pjsip show",
    "sip show",
    "iax2 show",
    "queue show",
    "database show",
    "dialplan show",
    "channel show",
    "bridge show",
    "confbridge list",
    "agent show",
    "voicemail show",
    "module show",
    "manager show",
)
"""Read-only command families: a user's ``commands_allow`` default.  Issue 11's
list plus ``manager show`` (the AMI's own commands and users, read-only),
which the captured clients run."""


def cli_args(command: str) -> tuple[str, ...]:
    """The words Asterisk's CLI makes of ``command`` (see the module doc)."""
    words: list[list[str]] = []
    quoted = escaped = False
    between = True  # parse_args' "whitespace": no word is open
    for char in command.lstrip(_LEADING):
        if len(words) >= AST_MAX_ARGS - 1:
            break
        if char == '"' and not escaped:
            quoted = not quoted
            if quoted and between:
                words.append([])
                between = False
        elif char in " \t" and not (quoted or escaped):
            between = True
        elif char == "\\" and not escaped:
            escaped = True
        else:
            if between:
                words.append([])
                between = False
            words[-1].append(char)
            escaped = False
    return tuple("".join(word) for word in words)


def parse_prefix(entry: str) -> Prefix:
    """A configured prefix, tokenised like a command and lower-cased."""
    return tuple(ascii_lower(word) for word in cli_args(entry))


def allowed_prefix(words: Iterable[str], prefixes: Iterable[Prefix]) -> Prefix | None:
    """The first prefix whose words begin ``words`` (case-insensitively), or None."""
    lowered = tuple(ascii_lower(word) for word in words)
    for prefix in prefixes:
        if prefix and lowered[: len(prefix)] == prefix:
            return prefix
    return None


DEFAULT_PREFIXES: Final[tuple[Prefix, ...]] = tuple(
    parse_prefix(entry) for entry in DEFAULT_COMMANDS_ALLOW
)
