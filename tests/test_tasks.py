from __future__ import annotations

import asyncio

import pytest

from gateway.tasks import cancel_and_wait


async def test_the_task_ends_and_its_cancel_is_absorbed() -> None:
    task = asyncio.create_task(asyncio.sleep(30))
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert task.cancelled()


async def test_a_finished_task_is_fine() -> None:
    task = asyncio.create_task(asyncio.sleep(0))
    await task
    await cancel_and_wait(task)
    assert task.done()
    assert not task.cancelled()


async def test_a_cancel_of_the_waiter_is_reraised() -> None:
    async def slow_to_stop() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(30)  # cleanup; the waiter's cancel lands here
            raise

    inner = asyncio.create_task(slow_to_stop())
    await asyncio.sleep(0)
    outer = asyncio.create_task(cancel_and_wait(inner))
    await asyncio.sleep(0)  # outer has cancelled inner and waits for it
    await asyncio.sleep(0)  # inner is in its cleanup
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert outer.cancelled()
    assert inner.cancelled()


async def test_cleanup_after_an_earlier_cancel_still_stops_its_task() -> None:
    """In a ``finally`` of a cancelled task, cancelling() is already 1."""
    inner = asyncio.create_task(asyncio.sleep(30))
    stopped = asyncio.Event()

    async def serve() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            await cancel_and_wait(inner)
            stopped.set()

    outer = asyncio.create_task(serve())
    await asyncio.sleep(0)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert stopped.is_set()
    assert inner.cancelled()
