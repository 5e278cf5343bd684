"""The open push streams of one instance, by session and by address, and the
``[push]`` limits on how many there may be.

``admit`` refuses a stream over ``max_streams`` (``StreamsUnavailable``:
503, another instance may take it), over its session's or its address's
share (``TooManyStreams``: 429), and counts each refusal by the limit's
key.  The fan-out (``gateway.push.fanout``) adds a stream once it opens and
removes it once it ends; what is written to the streams is the fan-out's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from gateway.core.sessions import Session
from gateway.errors import StreamsUnavailable, TooManyStreams
from gateway.push.settings import PushSettings
from gateway.push.stream import Stream, StreamKind


class StreamTable:
    """Every open stream, in the order they opened."""

    def __init__(self, refused: Counter[str]) -> None:
        self._streams: dict[Stream, None] = {}
        self._by_session: dict[str, list[Stream]] = {}
        self._by_address: Counter[str] = Counter()
        self._refused = refused
        """Streams refused, by the ``[push]`` limit (the fan-out's counts)."""

    def __len__(self) -> int:
        return len(self._streams)

    def __iter__(self) -> Iterator[Stream]:
        return iter(self._streams)

    def count(self, kind: StreamKind) -> int:
        return sum(1 for stream in self._streams if stream.kind is kind)

    def of_session(self, key: str) -> list[Stream]:
        """The session's open streams (a copy: ending them changes the table)."""
        return list(self._by_session.get(key, ()))

    def admit(
        self, settings: PushSettings, session: Session, address: str, *, closed: bool = False
    ) -> None:
        """Raise unless one more stream of this session and address fits;
        ``closed`` (a drain) refuses every one as ``max_streams`` would."""
        if closed or len(self._streams) >= settings.max_streams:
            self._refused["max_streams"] += 1
            raise StreamsUnavailable
        if len(self._by_session.get(session.key, ())) >= settings.max_streams_per_session:
            self._refused["max_streams_per_session"] += 1
            raise TooManyStreams("Too many streams for this session")
        if self._by_address[address] >= settings.max_streams_per_address:
            self._refused["max_streams_per_address"] += 1
            raise TooManyStreams("Too many streams from this address")

    def add(self, stream: Stream) -> None:
        self._streams[stream] = None
        self._by_session.setdefault(stream.session.key, []).append(stream)
        self._by_address[stream.address] += 1

    def remove(self, stream: Stream) -> None:
        """Forget a stream that ended (the fan-out ends each one once)."""
        self._streams.pop(stream, None)
        key = stream.session.key
        group = self._by_session.get(key, [])
        if stream in group:
            group.remove(stream)
        if not group:
            self._by_session.pop(key, None)
        self._by_address[stream.address] -= 1
        if self._by_address[stream.address] <= 0:
            del self._by_address[stream.address]
