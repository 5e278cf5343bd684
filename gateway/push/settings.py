"""The push streams' settings: ``[push]``, as ``gateway.config`` reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DEFAULT_HEARTBEAT: Final = 15.0
"""Seconds between heartbeats: well inside the 60 s idle timeouts of the usual
proxies (nginx's proxy_read_timeout, AWS ALB), as the issue asks."""

DEFAULT_BUFFER_BYTES: Final = 256 * 1024
"""Bytes a stream's socket buffer may hold beyond what the kernel took: ~1,000
ordinary events, seconds of a busy PBX for a client that reads late; past it
the stream stops being written and goes on from its cursor once it drains."""

DEFAULT_WRITE_TIMEOUT: Final = 30.0
"""Seconds a client may leave written bytes unread before its stream closes:
two heartbeats, so a client that reads nothing at all is found even when no
event comes."""


@dataclass(frozen=True, slots=True)
class PushSettings:
    """``[push]``: Server-Sent Events at ``{prefix}/events``, WebSocket at
    ``{prefix}/ws`` (``gateway.push``)."""

    enabled: bool = True
    """The two routes exist (a restart changes it)."""
    heartbeat: float = DEFAULT_HEARTBEAT
    """Seconds between an SSE comment line / a WebSocket ping on every stream."""
    retry: int = 2000
    """Milliseconds, the SSE ``retry:`` hint: how long a browser waits to reconnect."""
    buffer_bytes: int = DEFAULT_BUFFER_BYTES
    """Bytes written but not yet taken by the kernel, per stream (see above)."""
    write_timeout: float = DEFAULT_WRITE_TIMEOUT
    """Seconds a stream may hold unread bytes without the client reading any."""
    max_streams: int = 10_000
    """Streams open in total (SSE and WebSocket); beyond it, 503."""
    max_streams_per_session: int = 16
    """Streams of one session (a browser's tabs); beyond it, 429."""
    max_streams_per_address: int = 1_000
    """Streams from one client address (an office behind NAT); beyond it, 429."""
    max_frame_bytes: int = 131_072
    """Bytes of one WebSocket message from a client: AMI takes at most 128
    lines of 1 KiB (``gateway.ami.codec``); beyond it the socket closes (1009)."""
    max_bad_frames: int = 10
    """WebSocket frames that were not a JSON action object (each answered with
    an error); one more closes the socket (1008)."""
