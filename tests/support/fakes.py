"""In-memory twins of the ports: a chat channel, a knowledge base."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.channels import DeliveryError, RecipientUnreachable
from handlers.core.messages import Outgoing


class FakeChannel:
    """Records what the desk sends; can be told to fail, like a real platform."""

    def __init__(self, name: str = "fake") -> None:
        self.name = name
        self.sent: list[Outgoing] = []
        self.edits: list[tuple[Outgoing, str]] = []
        self.fail_times = 0
        self.retry_after: float | None = None
        self.blocked: set[str] = set()
        self._ids = 0

    async def send(self, out: Outgoing) -> str | None:
        if out.chat_id in self.blocked:
            raise RecipientUnreachable("bot was blocked by the user")
        if self.fail_times > 0:
            self.fail_times -= 1
            raise DeliveryError("platform error 500", retry_after=self.retry_after)
        self._ids += 1
        self.sent.append(out)
        return f"m{self._ids}"

    async def edit(self, out: Outgoing, platform_message_id: str) -> None:
        self.edits.append((out, platform_message_id))

    def status(self) -> str:
        return "ok"

    def to(self, chat_id: str) -> list[Outgoing]:
        """Messages sent to one chat, with later edits applied (as the person sees them)."""
        shown = [m for m in self.sent if m.chat_id == chat_id]
        for edit, _ in self.edits:
            for i, m in enumerate(shown):
                if m.key == edit.edits:
                    shown[i] = Outgoing(m.channel, m.chat_id, edit.text, m.key, edit.buttons)
        return shown


@dataclass(frozen=True)
class FakeArticle:
    id: str
    title: str
    body: str
    category: str = "valve"
    lang: str = "zh"


@dataclass(frozen=True)
class FakeHit:
    article: FakeArticle
    score: float


@dataclass
class FakeKB:
    """Finds an article when the query contains one of its words; nothing otherwise."""

    articles: dict[str, tuple[FakeArticle, tuple[str, ...]]] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)

    def add(self, article: Any, *words: str) -> None:
        """Index an article by the given words (default: its title and symptoms)."""
        found_by = words or (article.title.lower(), *(s.lower() for s in article.symptoms))
        self.articles[article.id] = (article, found_by)

    def get(self, article_id: str) -> Any:
        entry = self.articles.get(article_id)
        return entry[0] if entry else None

    def search(self, query: str, limit: int = 3, lang: str | None = None) -> list[FakeHit]:
        self.queries.append(query)
        hits = [FakeHit(a, 90.0) for a, words in self.articles.values()
                if any(w in query.lower() for w in words)]
        return hits[:limit]


def valve_kb() -> FakeKB:
    kb = FakeKB()
    steps = "1. 检查控制器指示灯。\n2. 测量线圈电压 24V。"
    kb.add(FakeArticle("valve-wont-open", "电磁阀打不开", steps), "电磁阀", "valve")
    return kb
