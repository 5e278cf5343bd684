"""Static pages under ``{prefix}/static/``, like Asterisk's ``enablestatic``.

With ``[http] static_dir`` the files come from that directory (Asterisk
serves ``static-http/`` the same way, so its ``ajamdemo.html`` and
``astman.js`` work from there, calling ``../rawman``).  Without it the
directory shipped in this package, ``static/``, is served: the live-calls
dashboard at ``{prefix}/static/dashboard/``.

What is served, decided on the raw request target, never on a normalised one:

* Each ``/``-separated segment is percent-decoded on its own (so ``%2F``
  cannot make a separator).  A segment that is empty (``//``), starts with
  ``.`` (``..``, ``.``, dotfiles, ``.git``), or holds a NUL, a backslash or
  another control character makes the path a 404.
* The resolved file (symlinks followed) must lie inside the directory's own
  resolved path, and no segment of it may start with ``.``: a symlink may
  point elsewhere in the directory, never out of it.
* Only regular files.  A path ending in ``/`` serves that directory's
  ``index.html`` when there is one; there is no directory listing.  A
  directory named without its ``/`` is redirected (301) to it, so the
  page's relative URLs resolve inside it.
* ``Content-Type`` from ``TYPES`` by extension (``.js`` and ``.mjs`` as
  ``text/javascript``, which module scripts require), else
  ``application/octet-stream``; ``X-Content-Type-Options: nosniff``.
* A file below a ``private/`` directory (after symlinks) is served only to
  a logged-in session (cookie or ``mansession_id``) or valid HTTP Basic
  credentials, as Asterisk serves ``static-http/private/``; else 403.
* aiohttp's ``FileResponse`` writes it: ``ETag`` and ``Last-Modified``,
  ``304`` for ``If-None-Match``/``If-Modified-Since``, ``HEAD``, ranges.
  ``Cache-Control: no-cache``: a browser keeps the file but asks each time,
  so an upgraded dashboard is seen at once and an unchanged one costs a 304.

Anything else is the same 404 page as every other unknown path; methods
other than GET and HEAD get the 501 page AJAM paths give.
"""

from __future__ import annotations

import asyncio
import enum
import importlib.resources
import os
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final
from urllib.parse import unquote_to_bytes

from aiohttp import web

from gateway.errors import AmiLevelError, BadCredentials
from gateway.http.caller import CallerResolver, request_peer
from gateway.http.errors import error_page
from gateway.http.respond import SERVER_NAME

STATIC: Final = "static"
"""The path below the prefix, as in Asterisk (``{prefix}/static/``)."""
INDEX: Final = "index.html"
PRIVATE: Final = "private"
"""Asterisk serves files below a directory of this name to logged-in sessions only."""
CACHE_CONTROL: Final = "no-cache"
FALLBACK_TYPE: Final = "application/octet-stream"
TYPES: Final = MappingProxyType(
    {
        ".html": "text/html; charset=utf-8",
        ".htm": "text/html; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".mjs": "text/javascript; charset=utf-8",
        ".json": "application/json",
        ".map": "application/json",
        ".txt": "text/plain; charset=utf-8",
        ".xml": "text/xml; charset=utf-8",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".gif": "image/gif",
        ".ico": "image/x-icon",
        ".webp": "image/webp",
        ".woff2": "font/woff2",
        ".wav": "audio/wav",
        ".mp3": "audio/mpeg",
    }
)
"""By lower-cased extension; RFC 9239 names text/javascript for scripts and modules."""


def package_static() -> Path:
    """The ``static/`` directory shipped in this package (package data in
    pyproject.toml), where the dashboard lives."""
    return Path(str(importlib.resources.files(__package__ or "gateway.http") / STATIC))


@dataclass(frozen=True, slots=True)
class StaticSettings:
    prefix: str = "/asterisk"
    root: Path | None = None
    """``[http] static_dir``; None serves the package's own ``static/``."""


def segments(tail: str) -> tuple[str, ...] | None:
    """The raw path below ``{prefix}/static/`` to its decoded segments, or
    None when any is unsafe.  ``dashboard/`` ends with ``""``: a directory."""
    parts = tail.split("/")
    decoded: list[str] = []
    for index, raw in enumerate(parts):
        try:
            part = unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return None
        last = index == len(parts) - 1
        if (not part and not last) or part.startswith("."):
            return None
        if any(c in "/\\" or c < " " or c == "\x7f" for c in part):
            return None
        decoded.append(part)
    return tuple(decoded)


class Found(enum.Enum):
    FILE = "file"
    DIRECTORY = "directory"
    """A directory named without its trailing ``/``: redirected to it."""
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Located:
    found: Found
    path: Path | None = None


MISSING: Final = Located(Found.MISSING)


def locate(root: Path, parts: tuple[str, ...]) -> Located:
    """Where ``parts`` (from ``segments``) lead inside ``root``, which must
    already be resolved (blocking: run it in a thread)."""
    wants_directory = parts[-1] == ""
    real = _inside(root, root.joinpath(*(parts[:-1] if wants_directory else parts)))
    if real is not None and real.is_dir():
        if not wants_directory:
            return Located(Found.DIRECTORY)
        real = _inside(root, real / INDEX)
    elif wants_directory:
        return MISSING
    return Located(Found.FILE, real) if real is not None and real.is_file() else MISSING


def _inside(root: Path, path: Path) -> Path | None:
    """``path`` with every symlink resolved, if that is inside ``root`` and
    names no dotfile there; else None."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(root):
        return None
    if any(name.startswith(".") for name in real.relative_to(root).parts):
        return None
    return real


def content_type(path: Path) -> str:
    return TYPES.get(path.suffix.lower(), FALLBACK_TYPE)


def not_found() -> web.Response:
    return error_page(404, "Not Found", "The requested URL was not found on this server.")


class StaticFiles:
    """The ``{prefix}/static/{tail}`` route."""

    def __init__(self, settings: StaticSettings, callers: CallerResolver) -> None:
        self.callers = callers
        root = settings.root if settings.root is not None else package_static()
        self.root = Path(os.path.realpath(root))
        self.route = f"{settings.prefix}/{STATIC}/"

    def install(self, app: web.Application) -> None:
        """Before the AJAM catch-all route."""
        app.router.add_route("*", self.route + "{tail:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            return error_page(
                501, "Not Implemented", "Attempt to use unimplemented / unsupported method"
            )
        path = request.raw_path.partition("?")[0]
        if not path.startswith(self.route):
            return not_found()  # aiohttp matched a decoded path the raw one does not spell
        parts = segments(path[len(self.route) :])
        if parts is None:
            return not_found()
        located = await asyncio.to_thread(locate, self.root, parts)
        if located.found is Found.DIRECTORY:
            return web.Response(status=301, headers={"Location": path + "/", "Server": SERVER_NAME})
        if located.path is None:
            return not_found()
        private = PRIVATE in located.path.relative_to(self.root).parts[:-1]
        if private and not await self._logged_in(request):
            return error_page(
                403, "Access Denied", "You do not have permission to access the requested URL."
            )
        headers = {
            "Content-Type": content_type(located.path),
            "Cache-Control": f"private, {CACHE_CONTROL}" if private else CACHE_CONTROL,
            "X-Content-Type-Options": "nosniff",
            "Server": SERVER_NAME,
        }
        return web.FileResponse(located.path, headers=headers)

    async def _logged_in(self, request: web.Request) -> bool:
        try:
            caller = await self.callers.history(request, {}, request_peer(request))
        except (BadCredentials, AmiLevelError):  # undecodable or refused Basic credentials
            return False
        return caller is not None and caller.session.identity is not None
