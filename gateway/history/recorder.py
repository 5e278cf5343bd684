"""Recording Cdr events without ever blocking the AMI event path.

``Batcher`` (no asyncio) is a bounded queue that counts what it had to drop.
``Recorder`` offers each ``Cdr`` event to it from the event callback (a
parse and an append, nothing more) and a background task writes batches to
the store in one worker thread.  ``close()`` writes whatever is left, so a
clean stop loses nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from gateway.ami.message import Message
from gateway.history.query import HistoryQuery
from gateway.history.record import CdrRecord, from_event
from gateway.history.settings import HistoryConfig
from gateway.history.sqlite_store import SqliteStore

log = logging.getLogger("gateway.history")
T = TypeVar("T")


class Batcher:
    """A bounded FIFO of records; what does not fit is counted, not queued."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: deque[CdrRecord] = deque()
        self.dropped = 0
        """Records lost to a full queue since start."""
        self.unreported = 0
        """Drops not yet logged."""

    def __len__(self) -> int:
        return len(self._items)

    def offer(self, record: CdrRecord) -> bool:
        if len(self._items) >= self.capacity:
            self.dropped += 1
            self.unreported += 1
            return False
        self._items.append(record)
        return True

    def take(self, most: int) -> list[CdrRecord]:
        count = min(most, len(self._items))
        return [self._items.popleft() for _ in range(count)]

    def put_back(self, records: list[CdrRecord]) -> None:
        """A batch that failed to write goes back to the front, in order."""
        self._items.extendleft(reversed(records))

    def take_unreported(self) -> int:
        count, self.unreported = self.unreported, 0
        return count


class Recorder:
    """The SQLite backend: records Cdr events and answers queries."""

    def __init__(self, config: HistoryConfig) -> None:
        self.config = config
        self.batcher = Batcher(config.queue_size)
        self.written = 0
        self.bad = 0
        """Cdr events whose times could not be read."""
        self._store: SqliteStore | None = None
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="history")
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_prune = 0.0
        self._stopping = False

    def on_event(self, message: Message) -> None:
        """From the AMI event callback: must never block."""
        if message.name != "Cdr":
            return
        try:
            record = from_event(message, self.config.pbx_timezone)
        except ValueError as exc:
            self.bad += 1
            log.warning("history: unreadable Cdr event skipped: %s", exc)
            return
        self.batcher.offer(record)
        if len(self.batcher) >= self.config.batch_size:
            self._wake.set()

    async def _run(self, func: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, func)

    async def start(self) -> None:
        self._store = await self._run(lambda: SqliteStore(self.config))
        await self._prune()
        self._task = asyncio.create_task(self._loop(), name="history-writer")

    async def close(self) -> None:
        """Stop the writer, then write everything still queued."""
        # Not cancelled: a cancel mid-write would leave the thread writing a
        # batch that the final flush would then write again.
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        try:
            while len(self.batcher):
                await self.flush()
        except Exception:
            log.exception("history: %d calls could not be written at stop", len(self.batcher))
        finally:
            store, self._store = self._store, None
            if store is not None:
                await self._run(store.close)
            self._pool.shutdown(wait=True)

    async def _loop(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.flush_interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
                if time.monotonic() - self._last_prune >= self.config.prune_interval:
                    await self._prune()
            except Exception:  # a full disk must not end recording for good
                log.exception("history: writing calls failed; will retry")

    async def flush(self) -> int:
        """Write one batch; on failure it goes back to the front of the queue."""
        dropped = self.batcher.take_unreported()
        if dropped:
            log.warning("history: queue full, %d calls were not recorded", dropped)
        batch = self.batcher.take(self.config.batch_size)
        store = self._store
        if not batch or store is None:
            return 0
        try:
            written = await self._run(lambda: store.insert(batch))
        except Exception:
            self.batcher.put_back(batch)
            raise
        self.written += written
        return written

    async def _prune(self) -> None:
        store = self._store
        self._last_prune = time.monotonic()
        if store is not None:
            deleted = await self._run(lambda: store.prune(time.time()))
            if deleted:
                log.info("history: retention removed %d calls", deleted)

    async def query(self, q: HistoryQuery) -> list[CdrRecord]:
        store = self._store
        if store is None:
            return []
        return await self._run(lambda: store.query(q))
