"""The last few thousand ids a process has handled, to answer a replay without the database."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class RecentIds:
    """A bounded set: the `size` ids added last, the oldest forgotten first.

    Only an id whose handling has committed goes in, so "seen here" is as true as the
    database's record of it; an id not found here still goes to the database, which decides
    across processes."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._ids: OrderedDict[Hashable, None] = OrderedDict()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, key: Hashable) -> None:
        self._ids[key] = None
        self._ids.move_to_end(key)
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)
