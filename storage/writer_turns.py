"""SQLite's one writer, taken in turns where people go first.

SQLite lets one transaction write at a time (BEGIN IMMEDIATE); this process queues its own
transactions on one lock so waiting is fair and instant instead of SQLite's sleep-and-poll.
In an alarm storm that queue is mostly alarm steps, and a reply to a person would wait behind
all of them. Background work (`background=True`) therefore takes the lock only while no
foreground transaction is waiting for it, and gives it back at once if one arrived while it
was being handed over: a person waits for at most the one background step already writing.
Background work that has waited `patience` seconds queues with the people (first come, first
served), so a steady stream of chat cannot hold back the SLA timers or the alarms for long.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

PATIENCE_SECONDS = 2.0


class WriterTurns:
    def __init__(self, patience: float = PATIENCE_SECONDS) -> None:
        self.patience = patience
        self._lock = asyncio.Lock()  # FIFO: among the foreground, first come first served
        self._foreground = 0  # waiting for the lock or holding it
        self._no_foreground = asyncio.Event()
        self._no_foreground.set()

    @property
    def someone_waits(self) -> bool:
        """A foreground transaction is waiting (or writing): long background work should end
        its transaction at the next clean point and queue again."""
        return self._foreground > 0

    @asynccontextmanager
    async def turn(self, *, background: bool = False) -> AsyncIterator[None]:
        if background:
            await self._background_turn()
            try:
                yield
            finally:
                self._lock.release()
            return
        self._foreground += 1
        self._no_foreground.clear()
        try:
            async with self._lock:
                yield
        finally:
            self._foreground -= 1
            if not self._foreground:
                self._no_foreground.set()

    async def _background_turn(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.patience
        while (left := deadline - loop.time()) > 0:
            try:
                await asyncio.wait_for(self._no_foreground.wait(), left)
            except TimeoutError:
                break
            await self._lock.acquire()
            if not self._foreground:
                return
            self._lock.release()  # someone came while we queued: they go first
        await self._lock.acquire()  # waited long enough: in the queue with the people
