"""Feeding the web chat adapter from the desk: history, the demo directory, the page texts."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.webchat import Fanout, WebChat, WebUser
from handlers.core.messages import Outgoing
from storage import outbox
from storage.models import ChatIdentity, Person

if TYPE_CHECKING:
    from bot.bootstrap import Frontline

CHANNEL = "web"


def make_webchat(fl: Frontline) -> WebChat:
    async def history(chat_id: str) -> list[Outgoing]:
        async with fl.db.transaction() as tx:
            rows = await outbox.history(tx, CHANNEL, chat_id)
        return apply_edits([Outgoing.from_json(r.payload) for r in rows])

    async def directory() -> list[WebUser]:
        async with fl.db.transaction() as tx:
            stmt = (
                select(ChatIdentity, Person)
                .join(Person, Person.id == ChatIdentity.person_id)
                .where(ChatIdentity.channel == CHANNEL)
                .order_by(Person.id)
            )
            rows = (await tx.execute(stmt)).all()
        return [WebUser(i.external_user_id, p.name, p.role, p.site) for i, p in rows]

    secret = fl.settings.webchat_cookie_secret.get_secret_value() or secrets.token_hex(32)
    return WebChat(
        receive=fl.receive, history=history, directory=directory,
        texts=lambda lang: fl.texts.section(lang, "webchat"),
        demo=fl.settings.webchat_demo, cookie_secret=secret, fanout=make_fanout(fl),
    )


def make_fanout(fl: Frontline) -> Fanout | None:
    """PostgreSQL (maybe several replicas): LISTEN/NOTIFY. SQLite is one process: none."""
    if fl.db.engine.dialect.name != "postgresql":
        return None
    from bot.webchat_fanout import PgFanout, asyncpg_dsn

    return PgFanout(asyncpg_dsn(fl.settings.database_url), fl.db)


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
