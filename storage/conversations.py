"""Conversation state rows and the idempotency record of handled updates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import col

from storage.models import Conversation, SeenUpdate
from storage.uow import Tx


async def mark_seen(tx: Tx, channel: str, update_id: str, now: datetime) -> bool:
    """Record an update; False if it was handled before (the same update twice)."""
    values = {"channel": channel, "update_id": update_id, "at": now}
    return await tx.insert_ignore(SeenUpdate, values, ["channel", "update_id"])


async def load_for_update(
    tx: Tx, channel: str, chat_id: str, user_id: str, now: datetime
) -> Conversation:
    """The conversation row of this person in this chat, created if new, locked for the step.

    The row almost always exists: look first, insert only when missing (one statement on the
    common path instead of two)."""
    stmt = tx.lock(select(Conversation).where(
        col(Conversation.channel) == channel,
        col(Conversation.chat_id) == chat_id,
        col(Conversation.user_id) == user_id,
    )).execution_options(populate_existing=True)
    rows = await tx.scalars(stmt)
    if rows:
        return rows[0]
    values = {
        "channel": channel, "chat_id": chat_id, "user_id": user_id, "state": "idle",
        "data": {}, "language": "", "updated_at": now,
    }
    await tx.insert_ignore(Conversation, values, ["channel", "chat_id", "user_id"])
    return (await tx.scalars(stmt))[0]


async def for_user(tx: Tx, channel: str, user_id: str) -> list[Conversation]:
    stmt = select(Conversation).where(
        col(Conversation.channel) == channel, col(Conversation.user_id) == user_id
    )
    return await tx.scalars(stmt)
