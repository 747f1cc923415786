"""Feeding the web chat adapter from the desk: history, the demo directory, the page texts."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from bot import security
from bot.channels import Receive
from bot.webchat import Fanout, WebChat, WebUser
from handlers.core.messages import Outgoing
from handlers.core.texts import Texts
from storage import outbox
from storage.models import ChatIdentity, Person
from storage.uow import Database

CHANNEL = "web"


def make_webchat(db: Database, *, receive: Receive, texts: Texts, demo: bool,
                 cookie_secret: str, database_url: str, files_dir: Path | None = None,
                 allowed_origins: frozenset[str] = frozenset(), secure_cookies: bool = False,
                 identities_per_hour: int = 0, trusted_proxies: int = 0) -> WebChat:
    """The web chat adapter over this database. An empty `cookie_secret` is read from (or
    made once in) `files_dir`, so restarts and replicas sharing the folder keep identities;
    without a folder, a random one for this process."""
    secret = cookie_secret or (security.cookie_secret(files_dir) if files_dir
                               else secrets.token_hex(32))

    async def history(chat_id: str) -> list[Outgoing]:
        async with db.transaction() as tx:
            rows = await outbox.history(tx, CHANNEL, chat_id)
        return apply_edits([Outgoing.from_json(r.payload) for r in rows])

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

    return WebChat(
        receive=receive, history=history, directory=directory,
        texts=lambda lang: texts.section(lang, "webchat"),
        demo=demo, cookie_secret=secret, fanout=make_fanout(db, database_url),
        allowed_origins=allowed_origins, secure_cookies=secure_cookies,
        identity_limit=security.NewIdentityLimit(identities_per_hour),
        trusted_proxies=trusted_proxies,
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
