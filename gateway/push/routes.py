"""The push routes on the app: ``{prefix}/events`` and ``{prefix}/ws``."""

from __future__ import annotations

from aiohttp import web

from gateway.push.sse import SseRoute


async def get_only(request: web.Request) -> web.Response:
    """Any other method on a push path: 405, not the AJAM catch-all's 404."""
    return web.Response(status=405, headers={"Allow": "GET"}, text="Method Not Allowed\n")


def install_push(app: web.Application, prefix: str, sse: SseRoute) -> None:
    """Before the AJAM catch-all route."""
    resource = app.router.add_resource(f"{prefix}/events")
    resource.add_route("GET", sse.handle, expect_handler=None)
    resource.add_route("*", get_only)
