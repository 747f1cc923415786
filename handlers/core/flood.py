"""Per-person flood control: one chat sending a burst cannot starve everybody else.

A token bucket per (channel, user) in this process: `burst` messages at once, refilled at
`rate` per second. A message over the limit is not handled; the first one of a flood gets a
polite "slow down" (the person knows, nothing is silently lost), the rest are dropped until
the bucket refills.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

MAX_TRACKED = 50_000


@dataclass
class Bucket:
    tokens: float
    at: float
    warned: bool = False


class FloodGuard:
    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: OrderedDict[Hashable, Bucket] = OrderedDict()

    def check(self, key: Hashable) -> str:
        """'ok' to handle, 'warn' to answer "slow down" once, 'drop' to ignore."""
        now = self.clock()
        bucket = self._buckets.pop(key, None) or Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        self._buckets[key] = bucket  # most recently seen last; the oldest are forgotten
        if len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return "ok"
        if bucket.warned:
            return "drop"
        bucket.warned = True
        return "warn"

    def charge(self, key: Hashable, messages: float) -> None:
        """Count one update as this many more messages (a wrong invitation code: guessing
        costs more than talking); the bucket may go below empty and refills at `rate`."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens -= messages
