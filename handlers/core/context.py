"""The context a handler step runs in: its transaction, time, texts, and the outbox writer.

Every message a step emits is rendered in the recipient's language and queued in the outbox
inside the step's transaction, with a key derived from what caused the step (the update or
the timer), so a retried step can never send a message twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from handlers.core.config import DeskConfig
from handlers.core.messages import Button, FileRef, Incoming, Outgoing
from handlers.core.texts import Lazy, Texts
from storage import outbox, people
from storage.models import Conversation, Person
from storage.uow import Tx

# A button before rendering: (label key or Lazy, token).
Btn = tuple[str | Lazy, str]
Rows = Sequence[Sequence[Btn]]
D = TypeVar("D")
IDLE = "idle"  # the conversation state outside every dialogue


class ArticleView(Protocol):
    """What the desk reads of a knowledge-base article (kb.Article)."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def body(self) -> str: ...

    @property
    def category(self) -> str: ...

    @property
    def tags(self) -> Sequence[str]: ...


class HitView(Protocol):
    @property
    def article(self) -> ArticleView: ...


class Searcher(Protocol):
    """The knowledge base as the desk uses it (kb.KnowledgeBase is the real one)."""

    def search(self, query: str, limit: int = ..., lang: str | None = ...) -> Sequence[HitView]:
        ...

    def add(self, article: Any) -> None: ...

    def get(self, article_id: str) -> ArticleView | None: ...


class FileKeeper(Protocol):
    """The part of a file store the desk needs (bot/files.py is the real one)."""

    async def save(self, data: bytes, name: str, mime: str) -> FileRef: ...

    async def delete(self, key: str) -> bool: ...


@dataclass
class Ctx:
    tx: Tx
    now: datetime
    config: DeskConfig
    texts: Texts
    kb: Searcher | None
    origin: str  # "web:<update id>" or "timer:<key>": the root of every outbox key
    files: FileKeeper | None = None  # reports, charts, attachment purges
    incoming: Incoming | None = None
    person: Person | None = None
    conv: Conversation | None = None
    _count: int = field(default=0, repr=False)

    @property
    def lang(self) -> str:
        if self.person is not None:
            return self.texts.lang(self.person.language)
        if self.conv is not None and self.conv.language:
            return self.texts.lang(self.conv.language)
        return self.texts.default

    def t(self, key: str, lang: str | None = None, **fields: Any) -> str:
        return self.texts(lang or self.lang, key, **self._site_fields(fields))

    def _site_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        c = self.config
        base = {
            "company": c.company_name, "project": c.project_name,
            "manager": c.service_manager, "hotline": c.support_hotline,
        }
        return {**base, **fields}

    def next_key(self) -> str:
        self._count += 1
        return f"{self.origin}:{self._count}"

    def buttons(self, lang: str, rows: Rows) -> tuple[tuple[Button, ...], ...]:
        def label(lbl: str | Lazy) -> str:
            if isinstance(lbl, Lazy):
                return self.t(lbl.key, lang, **lbl.fields)
            return self.t(lbl, lang)

        return tuple(tuple(Button(label(lbl), data) for lbl, data in row) for row in rows)

    async def emit(self, out: Outgoing) -> str:
        await outbox.enqueue(self.tx, out.to_json(), self.now)
        return out.key

    async def send_text(
        self, channel: str, chat_id: str, lang: str, text: str, rows: Rows = (),
        *, key: str | None = None, edits: str | None = None, files: tuple[FileRef, ...] = (),
        secrets: tuple[str, ...] = (),
    ) -> str:
        out = Outgoing(
            channel=channel, chat_id=chat_id, text=text, key=key or self.next_key(),
            buttons=self.buttons(lang, rows), edits=edits, files=files, secrets=secrets,
        )
        return await self.emit(out)

    async def reply(self, text_key: str, rows: Rows = (), *, secrets: tuple[str, ...] = (),
                    **fields: Any) -> str:
        """Answer in the chat the current update came from. `secrets`: see Outgoing."""
        return await self.reply_text(self.t(text_key, **fields), rows, secrets)

    async def reply_text(self, text: str, rows: Rows = (), secrets: tuple[str, ...] = ()) -> str:
        assert self.incoming is not None
        inc = self.incoming
        return await self.send_text(inc.channel, inc.chat_id, self.lang, text, rows,
                                    secrets=secrets)

    async def notify(
        self, person: Person, text_key: str, rows: Rows = (), *, key: str | None = None,
        files: tuple[FileRef, ...] = (), **fields: Any,
    ) -> str | None:
        """Message a person where they were last seen; None if they cannot be reached."""
        ident = await self.reachable_identity(person)
        if ident is None:
            return None
        lang = self.texts.lang(person.language)
        text = self.t(text_key, lang, **fields)
        return await self.send_text(
            ident.channel, ident.chat_id, lang, text, rows, key=key, files=files
        )

    async def edit(
        self, target_key: str, person: Person, text_key: str, rows: Rows = (), **fields: Any
    ) -> None:
        """Replace an earlier message (its text and buttons) where it was sent."""
        row = await outbox.by_key(self.tx, target_key)
        if row is None:
            return
        lang = self.texts.lang(person.language)
        text = self.t(text_key, lang, **fields)
        await self.send_text(row.channel, row.chat_id, lang, text, rows, edits=target_key)

    async def reachable_identity(self, person: Person) -> Any:
        assert person.id is not None
        idents = [i for i in await people.identities_of(self.tx, person.id) if not i.unreachable]
        if not idents:
            return None
        epoch = datetime.min.replace(tzinfo=self.now.tzinfo)
        return max(idents, key=lambda i: (i.last_seen or epoch, i.id or 0))

    def set_state(self, state: StrEnum | str, data: object = None) -> None:
        """Move the conversation to `state`, with that dialogue's typed data (a dataclass)."""
        assert self.conv is not None
        self.conv.state = str(state)
        self.conv.data = asdict(data) if is_dataclass(data) and not isinstance(data, type) \
            else {}
        self.conv.updated_at = self.now
        self.tx.add(self.conv)

    def keep(self, data: object) -> None:
        """Store changed dialogue data without changing the state."""
        self.set_state(self.state, data)

    def data(self, cls: type[D]) -> D:
        """The dialogue's data as the flow's dataclass (keys it does not know are ignored)."""
        stored = self.conv.data if self.conv is not None else {}
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in stored.items() if k in known})

    @property
    def state(self) -> str:
        return self.conv.state if self.conv is not None else IDLE
