"""The AMI front door's listener: AMI clients over TCP (or TLS), one
``Connection`` each, all served through the gateway's one AMI socket.

Before the banner, a new connection is closed at once, without a word, when
``max_unauthenticated`` connections are already waiting to log in (as
Asterisk's ``authlimit``) or when the gateway holds ``max_sessions``
sessions (each AMI connection is one).  A connection from one of
``trusted_proxies`` is read a PROXY protocol line first (``proxyline``):
the client it names is the connection's peer from then on.  A drain stops the listener; the
sessions' end then sends each client ``Event: Shutdown`` and closes it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
import time
from typing import Final

from gateway.amiserver.connection import Connection, DoorParts
from gateway.amiserver.proxyline import MAX_LINE, client_of, trusted
from gateway.amiserver.settings import AmiServerConfig
from gateway.core.replies import Door, Peer
from gateway.errors import TooManySessions

log = logging.getLogger("gateway.amiserver")

REFUSAL_LOG_EVERY: Final = 1000
"""One log line per this many refused connections: a flood must not fill the disk."""


def tls_context(settings: AmiServerConfig) -> ssl.SSLContext | None:
    """The server context for ``tls = true`` (certfile and keyfile are checked
    by the configuration)."""
    if not settings.tls:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    assert settings.certfile is not None
    context.load_cert_chain(settings.certfile, settings.keyfile)
    return context


def peer_of(writer: asyncio.StreamWriter) -> Peer:
    remote = writer.get_extra_info("peername")
    local = writer.get_extra_info("sockname")
    return Peer(
        address=str(remote[0]) if remote else "",
        port=int(remote[1]) if remote else 0,
        local_address=str(local[0]) if local else "127.0.0.1",
        local_port=int(local[1]) if local else 0,
        door=Door.AMI,
    )


class AmiDoor:
    """The listener and its open connections."""

    def __init__(self, parts: DoorParts) -> None:
        self._parts = parts
        self._server: asyncio.Server | None = None
        self._connections: dict[Connection, asyncio.Task[None] | None] = {}
        self._port = 0
        self.refused = 0

    @property
    def port(self) -> int:
        """The port it listens on (after ``start``; a configured 0 picks one)."""
        return self._port

    @property
    def connections(self) -> int:
        return len(self._connections)

    def written_to(self, address: str, port: int) -> int:
        """Bytes written so far to the open connection from ``address:port``."""
        return sum(
            conn.written
            for conn in self._connections
            if (conn.peer.address, conn.peer.port) == (address, port)
        )

    async def start(self) -> None:
        settings = self._parts.settings
        self._server = await asyncio.start_server(
            self._accept, settings.host, settings.port, ssl=tls_context(settings)
        )
        self._port = int(self._server.sockets[0].getsockname()[1])
        log.info("AMI door listening on %s:%d", settings.host, self.port)

    def stop_listening(self) -> None:
        """A drain: no new client; the open ones end with their sessions."""
        if self._server is not None:
            self._server.close()

    async def close(self) -> None:
        """Stop listening and end every connection (the app's cleanup)."""
        self.stop_listening()
        tasks = [task for task in self._connections.values() if task is not None]
        for conn in list(self._connections):
            conn.stop()
        if tasks:
            await asyncio.wait(tasks)
        if self._server is not None:
            await self._server.wait_closed()

    def _unauthenticated(self) -> int:
        return sum(1 for conn in self._connections if not conn.authenticated)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parts, peer = self._parts, peer_of(writer)
        if trusted(peer.address, parts.settings.trusted_proxies):
            relayed = await self._proxied(reader, peer)
            if relayed is None:
                self._refuse(writer, peer, "trusted_proxies (no PROXY line)")
                return
            peer = relayed
        if self._unauthenticated() >= parts.settings.max_unauthenticated:
            self._refuse(writer, peer, "max_unauthenticated")
            return
        try:
            session = parts.sessions.create(
                peer.address, time.monotonic(), parts.log.last_seq, Door.AMI
            )
        except TooManySessions:
            self._refuse(writer, peer, "max_sessions")
            return
        conn = Connection(parts, reader, writer, peer, session)
        self._connections[conn] = asyncio.current_task()
        try:
            await conn.serve()
        finally:
            del self._connections[conn]

    async def _proxied(self, reader: asyncio.StreamReader, peer: Peer) -> Peer | None:
        """The client a trusted proxy's PROXY line names, or None."""
        try:
            async with asyncio.timeout(self._parts.settings.auth_timeout):
                line = await reader.readuntil(b"\n")
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            return None
        client = client_of(line[: MAX_LINE + 1])
        if client is None:
            return None
        return dataclasses.replace(peer, address=client[0], port=client[1])

    def _refuse(self, writer: asyncio.StreamWriter, peer: Peer, limit: str) -> None:
        """Closed before the banner, as Asterisk does over its authlimit."""
        self.refused += 1
        if self.refused % REFUSAL_LOG_EVERY == 1:
            log.warning(
                "AMI client %s refused: over %s (%d refused so far)",
                peer.address,
                limit,
                self.refused,
            )
        writer.transport.abort()
