"""CORS for browser clients on other origins (``[http] cors_*``).

Only configured origins are allowed, compared exactly (scheme, host and port;
case-insensitively, as browsers serialise them lower-case); an arbitrary
``Origin`` is never reflected.  ``"*"`` allows every origin but never with
credentials (the config refuses that pair).  A preflight (``OPTIONS`` with
``Access-Control-Request-Method``) is answered here, before the AJAM handler,
which knows no OPTIONS; every other answer gets its headers when it is
prepared, so error pages and 429s are readable by the page too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from gateway.http.errors import error_page

ALLOW_METHODS: Final = ("GET", "HEAD", "POST")
"""What the AJAM endpoints answer (``gateway.http.ajam.ALLOWED_METHODS``)."""
ALLOW_HEADERS: Final = ("authorization", "content-type", "x-requested-with")
"""Basic credentials, a form or JSON body, and what jQuery-style clients add."""
ANY: Final = "*"


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    origins: frozenset[str] = frozenset()
    credentials: bool = False
    max_age: int = 600

    @classmethod
    def of(cls, origins: Iterable[str], credentials: bool, max_age: int) -> CorsPolicy:
        return cls(frozenset(o.lower() for o in origins), credentials, max_age)

    @property
    def enabled(self) -> bool:
        return bool(self.origins)

    def allow_origin(self, origin: str | None) -> str | None:
        """The ``Access-Control-Allow-Origin`` value for this Origin, or None."""
        if origin is None:
            return None
        if origin.lower() in self.origins:
            return origin.lower()
        return ANY if ANY in self.origins else None

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """Headers for an actual (non-preflight) answer."""
        allowed = self.allow_origin(origin)
        if allowed is None:
            return {}
        headers = {"Access-Control-Allow-Origin": allowed}
        if self.credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def preflight_headers(
        self, origin: str | None, method: str, requested: str | None
    ) -> dict[str, str] | None:
        """Headers for a preflight answer, or None when it must be refused."""
        if self.allow_origin(origin) is None or method.upper() not in ALLOW_METHODS:
            return None
        wanted = [h.strip().lower() for h in (requested or "").split(",") if h.strip()]
        if any(h not in ALLOW_HEADERS for h in wanted):
            return None
        return {
            **self.response_headers(origin),
            "Access-Control-Allow-Methods": ", ".join(ALLOW_METHODS),
            "Access-Control-Allow-Headers": ", ".join(ALLOW_HEADERS),
            "Access-Control-Max-Age": str(self.max_age),
        }


def vary_origin(response: web.StreamResponse) -> None:
    """Caches must key on Origin: the answer differs per origin."""
    current = response.headers.get(hdrs.VARY, "")
    names = {v.strip().lower() for v in current.split(",") if v.strip()}
    if "origin" not in names:
        response.headers[hdrs.VARY] = f"{current}, Origin" if current else "Origin"


def install_cors(app: web.Application, policy: CorsPolicy) -> None:
    """Answer preflights and add CORS headers to every response of ``app``."""
    if not policy.enabled:
        return

    @web.middleware
    async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
        method = request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_METHOD)
        if request.method != hdrs.METH_OPTIONS or method is None:
            return await handler(request)
        origin = request.headers.get(hdrs.ORIGIN)
        headers = policy.preflight_headers(
            origin, method, request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_HEADERS)
        )
        if headers is None:
            return error_page(403, "Forbidden", "Cross-origin request not allowed")
        return web.Response(status=204, headers=headers)

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        vary_origin(response)
        for name, value in policy.response_headers(request.headers.get(hdrs.ORIGIN)).items():
            response.headers.setdefault(name, value)

    app.middlewares.insert(0, preflight)
    app.on_response_prepare.append(on_prepare)
