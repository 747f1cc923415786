"""A small bounded cache whose entries expire: replay guard, card response codes."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Keeps at most `max_size` entries for `ttl` seconds each; the oldest go first.

    Memory stays bounded under a flood of distinct keys: eviction drops the oldest entry,
    which for the replay guard only means a very old message could be seen twice (the desk
    is idempotent on update ids anyway).
    """

    def __init__(
        self, ttl: float, max_size: int, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.max_size, self._now = ttl, max_size, now
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str) -> V | None:
        self._expire()
        item = self._items.get(key)
        return None if item is None else item[1]

    def put(self, key: str, value: V) -> None:
        self._items.pop(key, None)
        self._items[key] = (self._now() + self.ttl, value)
        self._expire()
        while len(self._items) > self.max_size:
            self._items.popitem(last=False)

    def add_new(self, key: str, value: V) -> bool:
        """Remember `key` unless it is already there; True when it was new."""
        if self.get(key) is not None:
            return False
        self.put(key, value)
        return True

    def pop(self, key: str) -> V | None:
        self._expire()
        item = self._items.pop(key, None)
        return None if item is None else item[1]

    def __len__(self) -> int:
        self._expire()
        return len(self._items)

    def _expire(self) -> None:
        # Insertion order is expiry order (same ttl for all), so stop at the first live one.
        now = self._now()
        while self._items:
            key, (expires, _) = next(iter(self._items.items()))
            if expires > now:
                return
            del self._items[key]
