"""Rendering a Reply into an HTTP response, with Asterisk's headers.

Events are rendered once per output format and cached on the stored event,
so a fan-out to thousands of sessions renders each event once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from gateway.core.events import StoredEvent
from gateway.core.replies import Reply
from gateway.render import Format, RenderOptions

SERVER_NAME = "ajam-gateway"
NO_CACHE = "no-cache, no-store"
"""Asterisk sends it on every AJAM answer and error page."""


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    """How the session cookie is written (``[http]`` cookie_* keys)."""

    max_age: int = 60
    path: str | None = None
    samesite: str | None = None
    secure: bool = False
    httponly: bool = False

    attributes: str = field(init=False, repr=False, compare=False)
    """Everything after the id, made once: it was rebuilt on every answer."""

    def __post_init__(self) -> None:
        parts = ["Version=1", f"Max-Age={self.max_age}"]
        if self.path:
            parts.append(f"Path={self.path}")
        if self.samesite:
            parts.append(f"SameSite={self.samesite}")
        if self.secure:
            parts.append("Secure")
        if self.httponly:
            parts.append("HttpOnly")
        object.__setattr__(self, "attributes", "; ".join(parts))

    def header(self, session_id: str) -> str:
        return f'mansession_id="{session_id}"; {self.attributes}'


def event_fragment(fmt: Format, key: str, event: StoredEvent, opts: RenderOptions) -> bytes:
    """The event in ``fmt``, rendered once and cached on it under ``key``."""
    cached = event.fragments.get(key)
    if cached is None:
        cached = event.remember(key, fmt.fragment(event.message, opts))
    return cached


def render_reply(fmt: Format, reply: Reply, opts: RenderOptions) -> bytes:
    key = fmt.cache_key(opts)  # unique across formats (Format.cache_key): no name prefix
    fragments = [fmt.fragment(m, opts) for m in reply.head]
    fragments += [event_fragment(fmt, key, e, opts) for e in reply.events]
    fragments += [fmt.fragment(m, opts) for m in reply.tail]
    return fmt.document(fragments, opts)


def ajam_response(
    fmt: Format,
    body: bytes,
    *,
    cookie: str | None,
    extra: dict[str, str] | None = None,
) -> web.Response:
    headers = {
        "Server": SERVER_NAME,
        "Cache-Control": NO_CACHE,
        "Content-Type": fmt.content_type,
    }
    if cookie is not None:
        headers["Set-Cookie"] = cookie
        headers["Pragma"] = "SuppressEvents"
    if extra:
        headers.update(extra)
    return web.Response(body=body, headers=headers)
