"""The streams a fan-out holds and the ``[push]`` limits on them
(gateway/push/streamtable.py), through ``Fanout.admit``."""

from __future__ import annotations

import pytest

from gateway.errors import StreamsUnavailable, TooManyStreams
from gateway.push.settings import PushSettings
from gateway.push.stream import Stream, StreamKind
from tests.support.fanoutrig import Parts, connection


async def test_limits_refuse_and_count() -> None:
    parts = Parts(max_streams=1, max_streams_per_session=1, max_streams_per_address=1)
    async with connection() as (side, _):
        session = parts.session()
        parts.fanout.admit(session, "a")
        parts.fanout.open(Stream(StreamKind.SSE, session, "a", side))
        with pytest.raises(StreamsUnavailable):
            parts.fanout.admit(parts.session(), "b")
        parts.fanout.configure(PushSettings(max_streams_per_session=1, max_streams_per_address=1))
        with pytest.raises(TooManyStreams):
            parts.fanout.admit(session, "b")
        with pytest.raises(TooManyStreams):
            parts.fanout.admit(parts.session(), "a")
        assert dict(parts.fanout.counts.refused) == {
            "max_streams": 1,
            "max_streams_per_session": 1,
            "max_streams_per_address": 1,
        }
