"""A raw-socket WebSocket client for the push tests: a handshake by hand and
masked text frames (RFC 6455 5.3), so a test can send and never read."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct


def masked(payload: bytes, opcode: int = 0x1) -> bytes:
    """One client frame: FIN, ``opcode``, masked with a random key."""
    key = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + body


async def upgrade(
    base: str, path: str, headers: dict[str, str] | None = None, *, rcvbuf: int | None = None
) -> tuple[int, asyncio.StreamReader, asyncio.StreamWriter]:
    """(status, reader, writer) after the handshake's response head; with
    ``rcvbuf``, a socket that small (a client that reads nothing fills it fast)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    return int(head.split()[1]), reader, writer
