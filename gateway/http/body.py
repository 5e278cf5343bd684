"""A request body, read whole under a limit, or refused: never acted on in part.

aiohttp's ``request.content.read(n)`` returns what has arrived so far, not
the body: a body that came in two TCP reads was cut at the first (issue 11,
item 3: ``action=Ori`` + ``ginate&...`` ran as ``Ori``).  ``read_body``
reads until the body's end, with ``Content-Length`` or chunked alike
(aiohttp's parser takes the framing off), and counts every byte against
``max_body`` as it comes, so a chunked body without a length is refused as
soon as it is too large.

A body that does not end well is refused too: the client hung up in the
middle (``ConnectionResetError`` from aiohttp: nothing is answered, the
request is only counted) or the chunked framing broke (aiohttp's
``RequestPayloadError``): ``BodyIncomplete``, a 400.  The ``[limits]
body_timeout`` of the server (``gateway.http.server``) raises its own
``RequestTimeout`` (408) here, which goes through untouched.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from gateway.errors import BodyIncomplete, BodyTooLarge


async def read_body(request: web.BaseRequest, max_body: int) -> bytes:
    """The whole body, at most ``max_body`` bytes (``BodyTooLarge`` beyond)."""
    length = request.content_length
    if length is not None and length > max_body:
        raise BodyTooLarge
    stream = request.content
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := await stream.readany():
            size += len(chunk)
            if size > max_body:
                raise BodyTooLarge
            chunks.append(chunk)
    except (ConnectionResetError, RequestPayloadError) as error:
        raise BodyIncomplete from error
    return b"".join(chunks)
