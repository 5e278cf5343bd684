"""``[http]`` and ``[limits]``: the listener, its cookies, CORS and Digest,
and every limit on what one client may hold or send.

The values a client's routing depends on are checked here: the node id
nginx routes by, the URL prefix, the CORS origins, the cookie attributes and
the Digest realm (``check_node_id`` and ``check_realm`` serve the command
line too).  ``parse_limits`` checks the limits against ``[http]``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from gateway.access.users import Network
from gateway.config import fields as cf
from gateway.config.fields import DAY, MIB, Reader, fail
from gateway.core.logincache import DEFAULT_SIZE as LOGIN_CACHE_SIZE
from gateway.core.logincache import DEFAULT_TTL as LOGIN_CACHE_TTL
from gateway.core.nonces import MAX_PENDING_NONCES, NONCE_LIFETIME
from gateway.core.pending import DEFAULT_PER_ADDRESS
from gateway.core.sendbudget import DEFAULT_QUEUED_BYTES

_NODE_ID_RE: Final = re.compile(r"^[a-z0-9]{0,8}$")
"""nginx routes on this prefix of the session id (design.md, Contracts)."""
_PREFIX_RE: Final = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")
_ORIGIN_RE: Final = re.compile(
    r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$"
)
_SAMESITE: Final = {"strict": "Strict", "lax": "Lax", "none": "None"}
_REALM_RE: Final = re.compile(r'^[^"\\\x00-\x1f\x7f]{1,64}$')
"""Written inside a quoted WWW-Authenticate parameter: no quote, backslash or control."""
PER_ADDRESS_SHARE: Final = 10
"""By default one client address may hold a tenth of max_connections: room for
an office behind one NAT, while ten addresses are needed to fill the server."""
DIGEST_REALM: Final = "asterisk"
"""Asterisk's realm; part of every user's digest_ha1, so changing it needs new HA1s."""


@dataclass(frozen=True, slots=True)
class HttpConfig:
    host: str = "127.0.0.1"
    port: int = 8088
    prefix: str = "/asterisk"
    """Starts with '/', no trailing '/'; '' serves at the root."""
    httptimeout: int = 60
    unauth_timeout: int = 10
    node_id: str = ""
    trusted_proxies: tuple[Network, ...] = ()
    cors_origins: tuple[str, ...] = ()
    cors_credentials: bool = False
    cors_max_age: int = 600
    """Seconds a browser may cache a preflight answer (Chromium caps it at 7200)."""
    cookie_path: str | None = None
    cookie_samesite: str | None = None
    cookie_secure: bool = False
    cookie_httponly: bool = False
    drain_time: float = 10.0
    """On SIGTERM, how long in-flight actions may take to finish before exit."""
    # HTTP Digest (/arawman, /amxml, /amanager)
    digest_realm: str = DIGEST_REALM
    digest_nonce_lifetime: int = NONCE_LIFETIME
    static_dir: str | None = None
    """Served under {prefix}/static/ (gateway/http/staticfiles.py); None serves
    the dashboard shipped in the package."""


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    max_query: int = 65536
    """Bytes of query string; over it, 414 (Asterisk has no limit of its own)."""
    max_body: int = MIB
    """Bytes of form body; over it, 413."""
    max_header_size: int = 8190
    """Bytes of one request header (aiohttp's default); over it, 431."""
    max_headers: int = 100
    """Request headers per request (Asterisk's http.c takes 100); over it, 431."""
    max_connections: int = 10000
    """Open HTTP connections; beyond it a new one gets 503 and is closed."""
    max_connections_per_address: int | None = None
    """Open connections from one TCP peer (trusted proxies exempt); None means
    ``max_connections // PER_ADDRESS_SHARE``: one address cannot take them all."""
    header_timeout: float = 10.0
    """A request's head must be complete this long after the connect or its
    first byte (HAProxy's ``timeout http-request``); then 408 and close."""
    keepalive_timeout: float = 75.0
    """An idle kept-alive connection is closed after this (nginx's default; above
    nginx's upstream keepalive_timeout of 60 s, so nginx closes first)."""
    body_timeout: float = 60.0
    """A request body must be complete this long after its head; then 408."""
    max_sessions: int = 20000
    """HTTP sessions stored in total; beyond it, ``Too many sessions``.  Only a
    login or a Challenge stores one; a login drops the oldest never logged in."""
    max_unauth_sessions_per_address: int = DEFAULT_PER_ADDRESS
    """Sessions stored before their login (a Challenge's) per client address."""
    waitevent_max: int | None = None
    """Cap on a waitevent's wait; None means httptimeout - 10, as Asterisk."""
    login_fail_delay: float = 1.0
    """Asterisk answers a failed login after 1.0 s (ami/login_fail)."""
    rate_per_session: float = 50.0
    """Requests per second per session (burst of one second's worth); over it, 429."""
    rate_per_address: float = 200.0
    """Requests per second per client address; over it, 429."""
    login_failures_per_address: int = 20
    """Failed logins per address per window; then every login from it fails."""
    login_failures_per_user_address: int = 5
    """Failed logins per (username, address) per window; then that pair fails."""
    login_failure_window: float = 300.0
    """Seconds over which failed logins are counted (sliding)."""
    login_cache_ttl: float = LOGIN_CACHE_TTL
    """Seconds a right plain secret (Login, HTTP Basic) is remembered, so that
    a burst pays one salted hash; 0 turns the cache off."""
    login_cache_size: int = LOGIN_CACHE_SIZE
    """Right secrets remembered (user x address), least recently used dropped."""
    digest_pending_nonces: int = MAX_PENDING_NONCES
    queued_bytes: int = DEFAULT_QUEUED_BYTES
    """Bytes of answers being written to clients, counted twice (gateway/core/sendbudget.py);
    over it, poll answers shrink, then wait for room."""
    send_timeout: float = 60.0
    """Seconds an AJAM answer may take to reach the kernel, and any other
    response may stay unread (``GatewayRunner``); then its connection is closed."""

    def connections_per_address(self) -> int:
        """The per-address connection cap in force."""
        if self.max_connections_per_address is not None:
            return self.max_connections_per_address
        return max(1, self.max_connections // PER_ADDRESS_SHARE)


def _prefix(where: str, value: object) -> str:
    text = cf.string(where, value).rstrip("/")
    if text and not _PREFIX_RE.match(text):
        raise fail(where, f"{value!r} must start with '/' and hold only URL-safe path segments")
    return text


def check_node_id(text: str, where: str = "--node-id") -> str:
    """A node id from the command line must be routable too."""
    return _node_id(where, text)


def _node_id(where: str, value: object) -> str:
    text = cf.string(where, value)
    if not _NODE_ID_RE.match(text):
        raise fail(where, f"{text!r} must match [a-z0-9]{{0,8}}")
    return text


def _origins(where: str, value: object) -> tuple[str, ...]:
    origins = cf.strings(where, value)
    for origin in origins:
        if origin != "*" and not _ORIGIN_RE.match(origin):
            raise fail(where, f"{origin!r} must be '*' or scheme://host[:port], no path")
    return origins


def _cookie_path(where: str, value: object) -> str:
    text = cf.string(where, value)
    if not text.startswith("/") or any(c in text for c in ";,\r\n\0"):
        raise fail(where, f"{text!r} must start with '/' and hold no ';' or ','")
    return text


def _samesite(where: str, value: object) -> str:
    text = cf.string(where, value)
    if text.lower() not in _SAMESITE:
        raise fail(where, f"{text!r} must be Strict, Lax or None")
    return _SAMESITE[text.lower()]


def check_realm(text: str, where: str = "--realm") -> str:
    """A Digest realm from the command line, by the rule of ``[http] digest_realm``."""
    return _realm(where, text)


def _realm(where: str, value: object) -> str:
    text = cf.string(where, value)
    if not _REALM_RE.match(text):
        raise fail(where, f"{text!r} must be 1-64 characters, no '\"', '\\' or control")
    return text


def _directory(where: str, value: object) -> str:
    text = cf.nonempty(where, value)
    if not os.path.isdir(text):
        raise fail(where, f"{text!r} is not a directory")
    return text


_HTTP_READERS: Final[Mapping[str, Reader]] = {
    "host": cf.nonempty,
    "port": cf.integer(0, 65535),
    "prefix": _prefix,
    "httptimeout": cf.integer(1, DAY),
    "unauth_timeout": cf.integer(1, 3600),
    "node_id": _node_id,
    "trusted_proxies": cf.networks,
    "cors_origins": _origins,
    "cors_credentials": cf.boolean,
    "cors_max_age": cf.integer(0, DAY),
    "cookie_path": _cookie_path,
    "cookie_samesite": _samesite,
    "cookie_secure": cf.boolean,
    "cookie_httponly": cf.boolean,
    "drain_time": cf.number(0, 3600),
    "digest_realm": _realm,
    "digest_nonce_lifetime": cf.integer(1, 3600),
    "static_dir": _directory,
}


def parse_http(table: Mapping[str, object]) -> HttpConfig:
    http = HttpConfig(**cf.read_section("[http]", table, _HTTP_READERS))
    if http.cookie_samesite == "None" and not http.cookie_secure:
        raise fail("[http] cookie_samesite", "'None' needs cookie_secure = true (browsers say so)")
    if "*" in http.cors_origins and http.cors_credentials:
        raise fail("[http] cors_origins", "'*' cannot be used with cors_credentials = true")
    return http


_LIMITS_READERS: Final[Mapping[str, Reader]] = {
    "max_query": cf.integer(1, 64 * MIB),
    "max_body": cf.integer(1, 1024 * MIB),
    "max_header_size": cf.integer(256, 1 * MIB),
    "max_headers": cf.integer(8, 10_000),
    "max_connections": cf.integer(1, 10_000_000),
    "max_connections_per_address": cf.integer(1, 10_000_000),
    "header_timeout": cf.number(0, 3600, open_low=True),
    "keepalive_timeout": cf.number(0, DAY, open_low=True),
    "body_timeout": cf.number(0, 3600, open_low=True),
    "max_sessions": cf.integer(1, 10_000_000),
    "max_unauth_sessions_per_address": cf.integer(1, 10_000_000),
    "waitevent_max": cf.integer(0, DAY),
    "login_fail_delay": cf.number(0, 60),
    "rate_per_session": cf.number(0, 1e9, open_low=True),
    "rate_per_address": cf.number(0, 1e9, open_low=True),
    "login_failures_per_address": cf.integer(1, 1_000_000),
    "login_failures_per_user_address": cf.integer(1, 1_000_000),
    "login_failure_window": cf.number(0, DAY, open_low=True),
    "login_cache_ttl": cf.number(0, 3600),
    "login_cache_size": cf.integer(1, 10_000_000),
    "digest_pending_nonces": cf.integer(1, 10_000_000),
    "queued_bytes": cf.integer(MIB, 1024 * 1024 * MIB),
    "send_timeout": cf.number(0, DAY, open_low=True),
}


def parse_limits(table: Mapping[str, object], http: HttpConfig) -> LimitsConfig:
    limits = LimitsConfig(**cf.read_section("[limits]", table, _LIMITS_READERS))
    if limits.waitevent_max is not None and limits.waitevent_max > http.httptimeout:
        raise fail("[limits] waitevent_max", "must not exceed [http] httptimeout")
    if limits.connections_per_address() > limits.max_connections:
        raise fail("[limits] max_connections_per_address", "must not exceed max_connections")
    return limits
