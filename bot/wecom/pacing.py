"""Per-recipient pacing: WeCom silently drops messages beyond ~30 a minute to one person.

A token bucket per person whose tokens come back one window after they were spent: at most
`limit` messages in any `window` seconds, exactly the platform's rule (a classic refilling
bucket would allow a full burst plus the refill, up to twice the limit, within a minute).
A send that would have to wait longer than `max_wait` is not held (the delivery worker is
sequential): it leaves as PacingBusy with the wait, and the outbox retries it then.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import deque
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]


class PacingBusy(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(f"recipient paced for {wait:.1f}s")
        self.wait = wait


class Pacer:
    def __init__(
        self, limit: int = 30, window: float = 60.0, max_wait: float = 5.0, *,
        now: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep,
        max_people: int = 10_000,
    ) -> None:
        self.limit, self.window, self.max_wait = limit, window, max_wait
        self._now, self._sleep = now, sleep
        self._max_people = max_people
        self._spent: dict[str, deque[float]] = {}

    async def wait(self, recipient: str) -> float:
        """Take a token for `recipient`, sleeping until one is back; returns the delay."""
        delay = self._reserve(recipient)
        if delay > 0:
            await self._sleep(delay)
        return delay

    def _reserve(self, recipient: str) -> float:
        # No await between reading and booking: concurrent senders each get their own slot.
        now = self._now()
        spent = self._spent.setdefault(recipient, deque())
        while spent and spent[0] <= now - self.window:
            spent.popleft()
        at = now if len(spent) < self.limit else spent[-self.limit] + self.window
        delay = max(at - now, 0.0)
        if delay > self.max_wait:
            raise PacingBusy(delay)
        bisect.insort(spent, at)  # keep order: spent[-limit] is the limit-th latest
        self._forget_idle(now)
        return delay

    def _forget_idle(self, now: float) -> None:
        if len(self._spent) <= self._max_people:
            return
        for who in [w for w, s in self._spent.items() if not s or s[-1] <= now - self.window]:
            del self._spent[who]
