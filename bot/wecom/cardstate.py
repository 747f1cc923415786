"""What the adapter remembers about cards it sent: response codes and pressed buttons.

WeCom lets a card be updated once per response_code: one comes back from message/send and
a fresh one with every press (template_card_event); each is valid for 72 hours. Kept in
process memory, bounded: after a restart (or on another replica) an old card simply keeps
its buttons, and the desk refuses a stale press politely.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.wecom.cache import TtlCache

CODE_TTL_SECONDS = 72 * 3600


@dataclass
class SentCard:
    chat_id: str
    labels: dict[str, str] = field(default_factory=dict)  # button key → label
    response_code: str | None = None
    pressed_label: str | None = None


class CardMemory:
    def __init__(
        self, max_cards: int = 20_000, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._cards: TtlCache[SentCard] = TtlCache(CODE_TTL_SECONDS, max_cards, now)
        self._groups: TtlCache[list[str]] = TtlCache(CODE_TTL_SECONDS, max_cards, now)

    def sent(self, group: str, task: str, card: SentCard) -> None:
        """One card of the Outgoing whose message id is `group` (its first task id)."""
        self._cards.put(task, card)
        tasks = self._groups.get(group) or []
        if task not in tasks:
            self._groups.put(group, [*tasks, task])

    def pressed(self, task: str, chat_id: str, key: str, response_code: str) -> None:
        card = self._cards.get(task) or SentCard(chat_id=chat_id)
        card.response_code = response_code or card.response_code
        card.pressed_label = card.labels.get(key, card.pressed_label)
        self._cards.put(task, card)

    def tasks(self, group: str) -> list[str]:
        return self._groups.get(group) or [group]

    def card(self, task: str) -> SentCard | None:
        return self._cards.get(task)

    def take_code(self, task: str) -> str | None:
        """The response code for one update of this card; it cannot be used twice."""
        card = self._cards.get(task)
        if card is None or not card.response_code:
            return None
        code, card.response_code = card.response_code, None
        return code

    def give_back(self, task: str, code: str) -> None:
        """The update did not happen (network): the code is still good for a retry."""
        card = self._cards.get(task)
        if card is not None and card.response_code is None:
            card.response_code = code
