"""The push routes on the app: ``{prefix}/events`` and ``{prefix}/ws``."""

from __future__ import annotations

from aiohttp import web

from gateway.push.sse import SseRoute
from gateway.push.ws import WsRoute


async def get_only(request: web.Request) -> web.Response:
    """Any other method on a push path: 405, not the AJAM catch-all's 404."""
    return web.Response(status=405, headers={"Allow": "GET"}, text="Method Not Allowed\n")


def install_push(app: web.Application, prefix: str, sse: SseRoute, ws: WsRoute) -> None:
    """Before the AJAM catch-all route."""
    for path, handler in ((f"{prefix}/events", sse.handle), (f"{prefix}/ws", ws.handle)):
        resource = app.router.add_resource(path)
        resource.add_route("GET", handler)
        resource.add_route("*", get_only)
