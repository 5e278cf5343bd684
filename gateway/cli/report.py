"""``check-config``'s report: what each user may do, and what looks wrong.

Pure: the filesystem checks (the history path) are ``gateway.cli.commands``'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from gateway.access.actionclasses import ActionPermissions
from gateway.access.classes import CLASS_BITS, format_classes
from gateway.config import Config, UserConfig
from gateway.history.location import MEMORY, NODE_ID, STATE_DIRECTORY

_POWERFUL: Final = (
    ("command", "can run Asterisk CLI commands"),
    ("config", "can rewrite configuration, dialplan included: as strong as a shell"),
    ("system", "can run system actions (reload, shutdown, dialplan changes)"),
    ("originate", "can place calls (toll fraud if exposed)"),
)
_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})
"""Listen addresses no other machine reaches: plain text there crosses no network."""


def _login_styles(user: UserConfig) -> str:
    if user.secret is not None:
        return "plain login, HTTP Basic, MD5 challenge, HTTP Digest"
    if user.digest_ha1 is not None:
        return "plain login, HTTP Basic, HTTP Digest"
    return "plain login, HTTP Basic"


def _networks(user: UserConfig) -> str:
    if not user.permit and not user.deny:
        return "any address"
    parts = []
    if user.permit:
        parts.append("permit " + ", ".join(str(n) for n in user.permit))
    parts.append("deny " + (", ".join(str(n) for n in user.deny) or "all others"))
    return "; ".join(parts)


def _actions(user: UserConfig) -> str:
    allow = "any (by class)" if user.actions_allow is None else ", ".join(user.actions_allow)
    deny = ", ".join(user.actions_deny) or "none"
    return f"allow {allow}; deny {deny}"


def _commands(user: UserConfig) -> str:
    if not user.write & CLASS_BITS["command"]:
        return "none (write has no command class)"
    if any(name.lower() == "command" for name in user.actions_allow or ()):
        return "any (actions_allow names Command)"
    if not user.commands_allow:
        return "none"
    return ", ".join(" ".join(prefix) for prefix in user.commands_allow)


def _user_summary(user: UserConfig) -> list[str]:
    sessions = "unlimited" if user.max_sessions is None else str(user.max_sessions)
    return [
        f"user {user.name}:",
        f"  login: {_login_styles(user)}",
        f"  read: {format_classes(user.read)}",
        f"  write: {format_classes(user.write)}",
        f"  actions: {_actions(user)}",
        f"  commands_allow: {_commands(user)}",
        f"  from: {_networks(user)}",
        f"  eventfilter: {len(user.eventfilter)} rule(s); max sessions: {sessions}",
    ]


def _user_warnings(user: UserConfig, known: ActionPermissions) -> list[str]:
    name = user.name
    warnings = []
    if user.secret is None and user.digest_ha1 is None:
        warnings.append(
            f"{name}: only secret_hash: MD5 challenge login and HTTP Digest "
            "(/arawman, /amxml, /amanager) cannot work; add digest_ha1 for Digest"
        )
    elif user.secret is None:
        warnings.append(f"{name}: no plain secret: MD5 challenge login cannot work")
    if user.secret is not None and user.digest_ha1 is not None:
        warnings.append(f"{name}: digest_ha1 is ignored when a plain secret is set")
    if user.read == 0 and user.write == 0:
        warnings.append(f"{name}: read and write are both empty: the user can only Ping")
    for class_name, meaning in _POWERFUL:
        if user.write & CLASS_BITS[class_name]:
            warnings.append(f"{name}: write includes {class_name}: {meaning}")
    for listed in (*(user.actions_allow or ()), *user.actions_deny):
        if listed not in known:
            warnings.append(f"{name}: action {listed!r} is unknown (a typo?)")
    if user.permit and not user.deny:
        warnings.append(f"{name}: permit without deny: every other address is refused")
    return warnings


def _global_warnings(config: Config) -> list[str]:
    warnings = []
    if not config.users:
        warnings.append("no [users.NAME] table: nobody can log in")
    if config.http.host not in _LOOPBACK:
        warnings.append(
            f"[http] host {config.http.host}: the gateway speaks plain HTTP; "
            "put a TLS proxy in front and list it in trusted_proxies"
        )
    if "*" in config.http.cors_origins:
        warnings.append("[http] cors_origins '*': any web page may call the gateway")
    door = config.ami_server
    if door.enabled and not door.tls and door.host not in _LOOPBACK:
        warnings.append(
            f"[ami_server] host {door.host} without tls: AMI secrets cross the network in"
            " clear; set tls = true or put deploy/nginx/ajam-gateway-ami.conf in front"
        )
    return warnings


def _door_line(config: Config) -> str:
    door = config.ami_server
    if not door.enabled:
        return "AMI door: off"
    return f"AMI door: {door.host}:{door.port}{' (TLS)' if door.tls else ''}"


def history_path(config: Config) -> str | None:
    """The SQLite file this config records calls in (``{node_id}`` filled in), or None."""
    history = config.history
    if not history.enabled or history.backend != "sqlite":
        return None
    return history.for_node(config.http.node_id).path


def _history_warnings(config: Config) -> list[str]:
    path = history_path(config)
    if path is None or path == MEMORY:
        return []
    template = config.history.path
    warnings = []
    if NODE_ID in template and not config.http.node_id:
        warnings.append(
            f"[history] path {template!r} has {NODE_ID} but the node id is empty:"
            " give --node-id ID as ajam-gateway@ID.service does"
        )
    if not Path(path).is_absolute():
        warnings.append(
            f"[history] path {path!r} is relative to the working directory:"
            " / under systemd, which the shipped units do not let the service write"
        )
    elif not Path(path).is_relative_to(STATE_DIRECTORY):
        warnings.append(
            f"[history] path {path!r} is outside {STATE_DIRECTORY}: the shipped units"
            " (ProtectSystem=strict) let the service write only its StateDirectory;"
            " add ReadWritePaths= in a drop-in (systemctl edit ajam-gateway)"
        )
    return warnings


def _history_line(config: Config) -> str:
    history = config.history
    if not history.enabled:
        return "history: off"
    if history.backend != "sqlite":
        return f"history: the PBX's cdr table ({history.backend})"
    return f"history: SQLite {history_path(config)}"


def check_config_report(config: Config) -> tuple[str, list[str]]:
    """A readable summary of what each user may do, and the warnings."""
    known = ActionPermissions.builtin()
    lines = [
        f"AMI: {config.ami.username}@{config.ami.host}:{config.ami.port}"
        f"{' (TLS)' if config.ami.tls else ''}",
        f"HTTP: {config.http.host}:{config.http.port}{config.http.prefix or '/'}"
        f" node_id={config.http.node_id or '(none)'}",
        _door_line(config),
        _history_line(config),
    ]
    warnings = _global_warnings(config) + _history_warnings(config)
    for user in sorted(config.users.values(), key=lambda u: u.name.lower()):
        lines.extend(_user_summary(user))
        warnings.extend(_user_warnings(user, known))
    return "\n".join(lines) + "\n", warnings
