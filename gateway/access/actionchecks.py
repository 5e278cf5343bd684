"""Checks on an action's fields, beyond its write classes.

Two layers, both needed because Asterisk sees every action arrive from the
gateway's own AMI account, which has ``write=all``:

``escalation_reason``
    Asterisk's own field checks, which it applies to its users but can no
    longer apply to ours: an Originate whose Application or Data can reach a
    shell needs the ``system`` class (the ``queue`` entry: ``agi`` or
    ``system``); Getvar and Status refuse ``SHELL``/``EVAL`` without
    ``system``.  The messages are Asterisk 22's.

``dangerous_reason``
    The gateway's own deny-list, applied to every user, ``write=all``
    included, unless the operator names the action in the user's
    ``actions_allow``.  An HTTP front end widens who can reach AMI, so the
    gateway refuses by default what turns AMI access into shell access or
    file access outside the config directory, or stops Asterisk:

    * Originate or DialplanExtensionAdd running System, TrySystem, Exec,
      TryExec, ExecIf, AGI, EAGI, DeadAGI, ExternalIVR, MixMonitor (its
      post-recording command) or Originate itself;
    * any Data, ApplicationData or Variable that calls SHELL, EVAL, FILE,
      CURL, ODBC or REALTIME functions (Originate, Getvar, Setvar, Status),
      or whose ``${...}``/``$[...]`` builds a function name from another
      expansion (``${S${X}HELL(id)}``: ``gateway.access.expressions``);
    * Command, unless the words Asterisk's CLI makes of it
      (``gateway.access.clitokens``) begin with a prefix of the user's
      ``commands_allow`` (read-only families by default); an allowed
      ``channel originate ... application APP`` or ``dialplan add
      extension`` still may not name a shell application, and the text
      passes the function checks above;
    * GetConfig, GetConfigJSON, ListCategories, CreateConfig, UpdateConfig
      with a file name that is absolute or contains ``..``;
    * ModuleLoad (any LoadType), MixMonitor with a Command, AGI running one
      of the shell applications above.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Final

from gateway.access.astvalues import ascii_lower, header_value, skip_blanks
from gateway.access.classes import CLASS_BITS
from gateway.access.clitokens import DEFAULT_PREFIXES, Prefix, allowed_prefix, cli_args
from gateway.access.expressions import dynamic_name
from gateway.ami.message import header_values

Fields = Sequence[tuple[str, str]]

SYSTEM: Final = CLASS_BITS["system"]
AGI: Final = CLASS_BITS["agi"]

ORIGINATE_FORBIDDEN: Final = "Originate Access Forbidden: app or data blacklisted"
GETVAR_FORBIDDEN: Final = "GetVar Access Forbidden: Variable"
STATUS_FORBIDDEN: Final = "Status Access Forbidden: Variables"

_ORIGINATE_APPS: Final = (
    "agi",
    "dbdeltree",
    "exec",
    "externalivr",
    "mixmonitor",
    "originate",
    "reload",
    "system",
)
"""Asterisk 22's table: an Application containing one of these needs system."""
_ORIGINATE_DATA: Final = ("CURL", "DB", "EVAL", "FILE", "ODBC", "REALTIME", "SHELL")
"""...and Data containing one of these (case-sensitive, as Asterisk checks)."""

_SHELL_APPS: Final = ("system", "exec", "agi", "externalivr", "mixmonitor", "originate")
_DANGEROUS_FUNC: Final = re.compile(
    r"\b(SHELL|EVAL|FILE|CURL|CURLOPT|ODBC\w*|REALTIME\w*)\s*\(", re.I
)
_CONFIG_FILE_FIELDS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "getconfig": ("Filename",),
        "getconfigjson": ("Filename",),
        "listcategories": ("Filename",),
        "createconfig": ("Filename",),
        "updateconfig": ("SrcFilename", "DstFilename"),
    }
)


field_value = header_value
"""The first value of ``name``, past its leading blanks, or "": astman_get_header."""


field_values = header_values


def escalation_reason(action: str, fields: Fields, write: int) -> str | None:
    """Asterisk's own refusal for this action and user, or None."""
    name = ascii_lower(action)
    if name == "originate":
        needed = _originate_needs(field_value(fields, "Application"), field_value(fields, "Data"))
        return ORIGINATE_FORBIDDEN if needed and not write & needed else None
    if name == "getvar" and not write & SYSTEM:
        return GETVAR_FORBIDDEN if _shell_words(field_value(fields, "Variable")) else None
    if name == "status" and not write & SYSTEM:
        return STATUS_FORBIDDEN if _shell_words(field_value(fields, "Variables")) else None
    return None


def _shell_words(text: str) -> bool:
    return "SHELL" in text or "EVAL" in text


def _originate_needs(app: str, data: str) -> int:
    """The classes (any of) an Originate to this Application and Data needs."""
    if not app:
        return 0
    lowered = app.lower()
    for word in _ORIGINATE_APPS:
        if word in lowered:
            return SYSTEM
    if "queue" in lowered and _queue_runs_agi(data):
        return AGI | SYSTEM
    for word in _ORIGINATE_DATA:
        if word in data:
            return SYSTEM
    return 0


def _queue_runs_agi(data: str) -> bool:
    # Queue(name,options,URL,announce,timeout,AGI,...): a quoted comma could
    # shift the split, so any quote counts as an AGI argument.
    args = data.split(",")
    return '"' in data or (len(args) > 5 and bool(args[5].strip()))


def dangerous_reason(
    action: str, fields: Fields, commands_allow: Sequence[Prefix] = DEFAULT_PREFIXES
) -> str | None:
    """Why the gateway's default policy refuses this action, or None."""
    name = ascii_lower(action)
    if name == "command":
        return _command(fields, commands_allow)
    check = _DANGER_CHECKS.get(name)
    return None if check is None else check(fields)


def _shell_app(app: str) -> str | None:
    lowered = app.lower()
    for word in _SHELL_APPS:
        if word in lowered:
            return f"application {app.strip()!r} can run shell commands"
    return None


def _dangerous_function(fields: Fields, *names: str) -> str | None:
    for name in names:
        for value in field_values(fields, name):
            reason = _dangerous_text(name, value)
            if reason is not None:
                return reason
    return None


def _dangerous_text(name: str, value: str) -> str | None:
    match = _DANGEROUS_FUNC.search(value)
    if match is not None:
        return f"{name} calls the {match.group(1).upper()} function"
    built = dynamic_name(value)
    if built is not None:
        return f"{name} builds a function name from another expansion: {built[:40]!r}"
    return None


def _originate(fields: Fields) -> str | None:
    return _shell_app(field_value(fields, "Application")) or _dangerous_function(
        fields, "Data", "Variable"
    )


def _extension_add(fields: Fields) -> str | None:
    return _shell_app(field_value(fields, "Application")) or _dangerous_function(
        fields, "ApplicationData"
    )


def _command(fields: Fields, commands_allow: Sequence[Prefix]) -> str | None:
    # Asterisk runs the first Command header; every one must pass.
    for value in field_values(fields, "Command"):
        words = cli_args(skip_blanks(value))
        if allowed_prefix(words, commands_allow) is None:
            return f"CLI command {' '.join(words)[:60]!r} is not in commands_allow"
        reason = _cli_shell_app(words) or _dangerous_text("Command", value)
        if reason is not None:
            return reason
    return None


def _cli_shell_app(words: tuple[str, ...]) -> str | None:
    """The application of ``channel originate ... application APP`` or of
    ``dialplan add extension EXTEN,PRIO,APP(DATA)``, when it reaches a shell."""
    lowered = tuple(ascii_lower(word) for word in words[:4])
    if lowered[:2] == ("channel", "originate") and lowered[3:4] == ("application",):
        return _shell_app(words[4]) if len(words) > 4 else None
    if lowered[:3] == ("dialplan", "add", "extension") and len(words) > 3:
        parts = words[3].split(",", 2)
        return _shell_app(parts[2].split("(", 1)[0]) if len(parts) == 3 else None
    return None


def _config_file(action: str) -> Callable[[Fields], str | None]:
    def check(fields: Fields) -> str | None:
        for name in _CONFIG_FILE_FIELDS[action]:
            path = field_value(fields, name).strip()
            parts = re.split(r"[/\\]", path)
            if path.startswith(("/", "\\")) or ".." in parts:
                return f"{name} {path!r} leaves the configuration directory"
        return None

    return check


def _agi(fields: Fields) -> str | None:
    words = field_value(fields, "Command").split()
    if len(words) > 1 and words[0].lower() == "exec":
        reason = _shell_app(words[1])
        if reason is not None:
            return reason
    return _dangerous_function(fields, "Command")


def _mixmonitor(fields: Fields) -> str | None:
    return "MixMonitor Command runs a shell command" if field_value(fields, "Command") else None


_DANGER_CHECKS: Final[Mapping[str, Callable[[Fields], str | None]]] = MappingProxyType(
    {
        "originate": _originate,
        "dialplanextensionadd": _extension_add,
        "getvar": lambda fields: _dangerous_function(fields, "Variable"),
        "setvar": lambda fields: _dangerous_function(fields, "Variable"),
        "status": lambda fields: _dangerous_function(fields, "Variables"),
        "moduleload": lambda fields: "ModuleLoad loads and unloads code",
        "mixmonitor": _mixmonitor,
        "agi": _agi,
        **{name: _config_file(name) for name in _CONFIG_FILE_FIELDS},
    }
)
