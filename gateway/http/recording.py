"""``GET {prefix}/recording?uniqueid=…``: a call's recording, with ``Range``.

The caller is authenticated as for ``/history`` (a session by cookie or
``mansession_id``, or HTTP Basic on the request) and must read ``cdr`` or
``reporting``.  The file is found by ``gateway.history.recordings`` (only a
regular file of a recording format inside ``recordings_dir``), opened
without following a last symlink and checked again on the open descriptor,
then sent from that descriptor: whole (200), one range (206), or 416
(``gateway.http.ranges``).  HEAD answers the same headers.  Each write must
reach the kernel within ``[limits] send_timeout``, else the connection goes.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Mapping
from typing import Final
from urllib.parse import quote

from aiohttp import web

from gateway.errors import InvalidField, NoRecording, QueryTooLarge
from gateway.history.recordings import UNIQUEID, Recording
from gateway.history.service import HistoryService
from gateway.http.caller import CallerResolver
from gateway.http.history import cdr_reader, single
from gateway.http.ranges import Outcome, choose, http_date, if_range_holds, strong_etag
from gateway.http.respond import NO_CACHE, SERVER_NAME

PARAMETERS: Final = frozenset({"uniqueid", "mansession_id"})
CHUNK: Final = 256 * 1024
"""Bytes read and written at a time: a few per recording, small beside the send budget."""
_SAFE_NAME: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")


class RecordingRoute:
    def __init__(
        self,
        service: HistoryService,
        callers: CallerResolver,
        *,
        max_query: int,
        send_timeout: float,
    ) -> None:
        self.service = service
        self.callers = callers
        self.max_query = max_query
        self.send_timeout = send_timeout

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if len(request.query_string) > self.max_query:
            raise QueryTooLarge
        params = single(request.query.items())
        for name in params:
            if name not in PARAMETERS:
                raise InvalidField(f"unknown parameter {name!r}", name)
        await cdr_reader(self.callers, request, params, "recording")
        uniqueid = _uniqueid(params)
        found = await self.service.recording(uniqueid)
        if found is None:
            raise NoRecording(field="uniqueid")
        try:
            fd = await asyncio.to_thread(os.open, found.path, _OPEN_FLAGS)
        except OSError:
            raise NoRecording(field="uniqueid") from None  # gone, or now a symlink
        try:
            return await self._send(request, fd, found)
        finally:
            os.close(fd)

    async def _send(self, request: web.Request, fd: int, found: Recording) -> web.StreamResponse:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NoRecording(field="uniqueid")
        size, etag = st.st_size, strong_etag(st.st_size, st.st_mtime_ns)
        part = choose(request.headers.get("Range"), size)
        if not if_range_holds(request.headers.get("If-Range"), etag, st.st_mtime):
            part = choose(None, size)  # the client's copy is stale: all of the new one
        response = web.StreamResponse(status=part.outcome.value, headers=_headers(found, etag, st))
        content_range = part.content_range(size)
        if content_range is not None:
            response.headers["Content-Range"] = content_range
        response.content_length = part.length
        await response.prepare(request)
        if request.method != "HEAD" and part.outcome is not Outcome.UNSATISFIABLE:
            await self._copy(response, fd, part.start, part.length)
        await response.write_eof()
        return response

    async def _copy(self, response: web.StreamResponse, fd: int, offset: int, left: int) -> None:
        while left > 0:
            chunk = await asyncio.to_thread(os.pread, fd, min(CHUNK, left), offset)
            if not chunk:
                raise ConnectionResetError("the recording shrank while it was sent")
            async with asyncio.timeout(self.send_timeout):
                await response.write(chunk)
            offset += len(chunk)
            left -= len(chunk)


_OPEN_FLAGS: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


def _uniqueid(params: Mapping[str, object]) -> str:
    value = params.get("uniqueid")
    if not isinstance(value, str) or not UNIQUEID.fullmatch(value):
        raise InvalidField("uniqueid must be a call's uniqueid or linkedid", "uniqueid")
    return value


def _headers(found: Recording, etag: str, st: os.stat_result) -> dict[str, str]:
    name = found.path.name
    if set(name) <= _SAFE_NAME:
        disposition = f'inline; filename="{name}"'
    else:
        disposition = f"inline; filename*=UTF-8''{quote(name, safe='')}"
    return {
        "Content-Type": found.content_type,
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": http_date(st.st_mtime),
        "Content-Disposition": disposition,
        # Private: a recording is personal data, never kept by a shared cache.
        "Cache-Control": NO_CACHE,
        "Server": SERVER_NAME,
    }


RECORDING: Final = web.AppKey("recording", RecordingRoute)


def install_recordings(app: web.Application, route: RecordingRoute, prefix: str) -> None:
    """The route, when ``recordings_dir`` is set; before the AJAM catch-all route."""
    app[RECORDING] = route
    if route.service.recordings is None:
        return
    app.router.add_get(f"{prefix}/recording", route.handle)  # HEAD too
