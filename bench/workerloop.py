"""The event loop of the load generators (pollers, streamers, AMI clients).

``python3 -m bench --client-uvloop`` sets ``BENCH_CLIENT_UVLOOP=1`` for the
worker processes it starts: they then run on uvloop, whose reads cost the
client less CPU per event than asyncio's selector loop.  That is a change to
the *measurement*, not to the gateway: at 1,000 streams x 100 events/s the
clients on asyncio used more CPU than the gateway on the same two cores.
Without the variable (or without uvloop installed, which is then an error)
they run on asyncio, as ``--uvloop`` alone leaves them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, Final, TypeVar

ENV: Final = "BENCH_CLIENT_UVLOOP"

T = TypeVar("T")


def wanted() -> bool:
    return os.environ.get(ENV) == "1"


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, on uvloop when the harness asked for it."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if wanted():
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
