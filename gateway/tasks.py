"""Stopping a background task without swallowing the caller's own cancel.

``task.cancel(); with suppress(CancelledError): await task`` also swallows a
cancel aimed at the *caller* while it waits, so a cancelled shutdown would
carry on as if nothing happened.  ``cancel_and_wait`` re-raises that one.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait until it has ended.  Its own CancelledError is
    expected; a cancel of the current task that arrives meanwhile is re-raised.
    (Counted from here: cleanup that runs after an earlier cancel, in a
    ``finally``, still stops its tasks.)"""
    current = asyncio.current_task()
    before = current.cancelling() if current is not None else 0
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        if current is not None and current.cancelling() > before:
            raise
