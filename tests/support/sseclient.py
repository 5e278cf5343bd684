"""A raw-socket SSE client for the push tests: no client library between the
test and the bytes the gateway writes.

``SseClient.open`` sends one GET and reads the response head; ``next()``
returns the next SSE message (comments included, as ``Message.comment``),
de-chunking the body when it is chunked.  With ``rcvbuf`` the connection
has that receive buffer and reads nothing until ``read_head()``: a client
that does not read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SseMessage:
    id: str | None = None
    event: str | None = None
    data: list[str] = field(default_factory=list)
    retry: str | None = None
    comment: str | None = None

    @property
    def json(self) -> Any:
        return json.loads("\n".join(self.data))


@dataclass
class Head:
    status: int
    headers: dict[str, str]


def _unverified() -> ssl.SSLContext:
    """The test nginx's self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class SseClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.head = Head(0, {})
        self._chunked = False
        self._left = 0
        self._body = b""
        self._eof = False

    @classmethod
    async def open(
        cls,
        base: str,
        path: str,
        headers: dict[str, str] | None = None,
        *,
        version: str = "1.1",
        rcvbuf: int | None = None,
    ) -> SseClient:
        scheme, _, address = base.partition("://")
        host, port = address.split(":")
        sock = socket.socket()
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        tls = _unverified() if scheme == "https" else None
        reader, writer = await asyncio.open_connection(
            sock=sock, limit=1 << 22, ssl=tls, server_hostname=host if tls else None
        )
        lines = [f"GET {path} HTTP/{version}", f"Host: {host}:{port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        client = cls(reader, writer)
        if rcvbuf is None:
            await client.read_head()
        else:  # a client that reads nothing until told
            writer.transport.pause_reading()  # type: ignore[attr-defined]
        return client

    async def read_head(self) -> Head:
        self.writer.transport.resume_reading()  # type: ignore[attr-defined]
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = raw.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        self.head = Head(int(status_line.split()[1]), headers)
        self._chunked = headers.get("transfer-encoding") == "chunked"
        return self.head

    async def body(self) -> bytes:
        """The rest of a (non-stream) response."""
        length = int(self.head.headers.get("content-length", "0"))
        return await self.reader.readexactly(length)

    async def _more(self) -> bool:
        """Append body bytes; False at the end of the stream."""
        if self._eof:
            return False
        if not self._chunked:
            data = await self.reader.read(65536)
            if not data:
                self._eof = True
                return False
            self._body += data
            return True
        if self._left == 0:
            size_line = await self.reader.readline()
            if not size_line:
                self._eof = True
                return False
            size = int(size_line.strip(), 16)
            if size == 0:
                await self.reader.readline()
                self._eof = True
                return False
            self._left = size
        data = await self.reader.read(self._left)
        if not data:
            self._eof = True
            return False
        self._left -= len(data)
        self._body += data
        if self._left == 0:
            assert await self.reader.readexactly(2) == b"\r\n"
        return True

    async def next(self, timeout: float = 5.0) -> SseMessage | None:
        """The next message, None at the end of the stream."""
        async with asyncio.timeout(timeout):
            while b"\n\n" not in self._body:
                if not await self._more():
                    return None
        block, self._body = self._body.split(b"\n\n", 1)
        message = SseMessage()
        for line in block.decode().split("\n"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                message.comment = value
            elif name == "data":
                message.data.append(value)
            elif name in ("id", "event", "retry"):
                setattr(message, name, value)
        return message

    async def events(self, count: int, timeout: float = 5.0) -> list[SseMessage]:
        """The next ``count`` messages that carry data (heartbeats skipped)."""
        found: list[SseMessage] = []
        while len(found) < count:
            message = await self.next(timeout)
            assert message is not None, f"stream ended after {found}"
            if message.data:
                found.append(message)
        return found

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):  # data after our close_notify
            await self.writer.wait_closed()
