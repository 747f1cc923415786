"""SQLite's one writer, taken in turns where people go first.

SQLite lets one transaction write at a time (BEGIN IMMEDIATE); this process queues its own
transactions on one lock so waiting is fair and instant instead of SQLite's sleep-and-poll.
In an alarm storm that queue is mostly alarm steps, and a reply to a person would wait behind
all of them. Background work (`background=True`) therefore takes the lock only while no
foreground transaction is waiting for it, and gives it back at once if one arrived while it
was being handed over: a person waits for at most the one background step already writing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriterTurns:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()  # FIFO: among the foreground, first come first served
        self._foreground = 0  # waiting for the lock or holding it
        self._no_foreground = asyncio.Event()
        self._no_foreground.set()

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
        while True:
            await self._no_foreground.wait()
            await self._lock.acquire()
            if not self._foreground:
                return
            self._lock.release()  # someone came while we queued: they go first
