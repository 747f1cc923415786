"""Feeding the web chat adapter from the desk: history, the demo directory, the page texts,
photos, and the demo's clock."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from bot import security
from bot.channels import Receive
from bot.webchat import Fanout, PhotoStore, WebChat, WebUser, frame
from handlers.core.clock import Clock, OffsetClock, SystemClock
from handlers.core.messages import MASK, Button, FileRef, Outgoing, redacted
from handlers.core.texts import Texts
from handlers.flows import admission
from storage import outbox, webchat_history
from storage.models import ChatIdentity, Person, WebChatLine
from storage.uow import Database

CHANNEL = "web"


@dataclass
class DbTranscript:
    """The web chat's lines in the database (storage/webchat_history.py)."""

    db: Database
    clock: Clock

    async def sent(self, out: Outgoing, target: str | None) -> None:
        if out.secrets:  # the open page shows the code once; a reload shows it masked
            out = Outgoing.from_json(redacted(out.to_json()))
        buttons = [[[b.label, b.data] for b in row] for row in out.buttons]
        async with self.db.transaction() as tx:
            if target is None:
                await webchat_history.add(
                    tx, out.chat_id, out.key, out.text, self.clock.now(), buttons=buttons,
                    files=[[f.key, f.name, f.mime, f.size] for f in out.files])
            else:  # a line already pruned stays pruned: the edit still reaches open tabs
                await webchat_history.replace(tx, out.chat_id, target, out.text, buttons)

    async def file(self, chat_id: str, key: str, index: int) -> FileRef | None:
        """A file the bot sent to this chat (message `key`, its `index`th file); None for a
        file of another chat, or one no longer kept."""
        async with self.db.transaction() as tx:
            row = await webchat_history.line(tx, chat_id, key)
        if row is None or row.mine or not 0 <= index < len(row.files or []):
            return None
        return FileRef(*row.files[index])

    async def said(self, chat_id: str, key: str, text: str, pressed: str) -> None:
        """The person's line; `pressed`: the token of the button they pressed, if any. A
        typed invitation code is kept masked, as the manager's copy is (Outgoing.secrets)."""
        if not pressed and admission.as_code(text):
            text = MASK
        async with self.db.transaction() as tx:
            await webchat_history.add(tx, chat_id, key, text, self.clock.now(), mine=True,
                                      buttons=[[text, pressed]] if pressed else [])


@dataclass
class DemoClock:
    """The demo's time control: the desk's offset clock and a timer sweep right after."""

    clock: OffsetClock
    sweep: Callable[[], Awaitable[int]]
    texts: Texts

    def shown(self, lang: str) -> str:
        return self.texts.time(lang, self.clock.now())

    async def skip(self, hours: int) -> int:
        self.clock.advance(hours=hours)
        return await self.sweep()


def line_body(row: WebChatLine) -> dict[str, Any]:
    """A kept line as the page takes it."""
    if row.mine:
        pressed = row.buttons[0][1] if row.buttons else ""
        return {"key": row.key, "text": row.text, "mine": True, "pressed": pressed}
    out = Outgoing(CHANNEL, row.chat_id, row.text, row.key,
                   buttons=tuple(tuple(Button(label, data) for label, data in r)
                                 for r in row.buttons),
                   files=tuple(FileRef(*f) for f in row.files))
    return frame(out)


def make_webchat(db: Database, *, receive: Receive, texts: Texts, demo: bool,
                 cookie_secret: str, database_url: str, files_dir: Path | None = None,
                 allowed_origins: frozenset[str] = frozenset(), secure_cookies: bool = False,
                 identities_per_hour: int = 0, trusted_proxies: int = 0,
                 clock: Clock | None = None, photos: PhotoStore | None = None,
                 sweep: Callable[[], Awaitable[int]] | None = None) -> WebChat:
    """The web chat adapter over this database. An empty `cookie_secret` is read from (or
    made once in) `files_dir`, so restarts and replicas sharing the folder keep identities;
    without a folder, a random one for this process. The time control exists only in demo
    mode over an `OffsetClock` with a `sweep` to run."""
    secret = cookie_secret or (security.cookie_secret(files_dir) if files_dir
                               else secrets.token_hex(32))
    clock = clock or SystemClock()

    async def history(chat_id: str) -> list[dict[str, Any]]:
        async with db.transaction() as tx:
            rows = await webchat_history.lines(tx, chat_id)
            if rows:
                return [line_body(r) for r in rows]
            # Chats from before the history table: what the outbox still holds of the bot's.
            sent = await outbox.history(tx, CHANNEL, chat_id)
        return [frame(m) for m in apply_edits([Outgoing.from_json(r.payload) for r in sent])]

    async def directory() -> list[WebUser]:
        async with db.transaction() as tx:
            stmt = (
                select(ChatIdentity, Person)
                .join(Person, col(Person.id) == col(ChatIdentity.person_id))
                .where(col(ChatIdentity.channel) == CHANNEL)
                .order_by(col(Person.id))
            )
            rows = (await tx.execute(stmt)).all()
        return [WebUser(i.external_user_id, p.name, p.role, p.site) for i, p in rows]

    demo_time = (DemoClock(clock, sweep, texts)
                 if demo and isinstance(clock, OffsetClock) and sweep is not None else None)
    return WebChat(
        receive=receive, history=history, directory=directory,
        texts=lambda lang: texts.section(lang, "webchat"),
        demo=demo, cookie_secret=secret, fanout=make_fanout(db, database_url),
        allowed_origins=allowed_origins, secure_cookies=secure_cookies,
        identity_limit=security.NewIdentityLimit(identities_per_hour),
        trusted_proxies=trusted_proxies, transcript=DbTranscript(db, clock), photos=photos,
        demo_time=demo_time,
    )


def make_fanout(db: Database, database_url: str) -> Fanout | None:
    """PostgreSQL (maybe several replicas): LISTEN/NOTIFY. SQLite is one process: none."""
    if db.engine.dialect.name != "postgresql":
        return None
    from bot.webchat_fanout import PgFanout, asyncpg_dsn

    return PgFanout(asyncpg_dsn(database_url), db)


def apply_edits(messages: list[Outgoing]) -> list[Outgoing]:
    """Fold edit messages into the messages they edit, as the chat shows them now."""
    by_key: dict[str, int] = {}
    shown: list[Outgoing] = []
    for msg in messages:
        if msg.edits and msg.edits in by_key:
            old = shown[by_key[msg.edits]]
            shown[by_key[msg.edits]] = Outgoing(
                channel=old.channel, chat_id=old.chat_id, text=msg.text, key=old.key,
                buttons=msg.buttons, files=old.files,
            )
        elif not msg.edits:
            by_key[msg.key] = len(shown)
            shown.append(msg)
    return shown
