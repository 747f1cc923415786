"""Conversation state rows and the idempotency record of handled updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage.models import ChatIdentity, Conversation, Person, SeenUpdate
from storage.uow import Tx


async def mark_seen(tx: Tx, channel: str, update_id: str, now: datetime) -> bool:
    """Record an update; False if it was handled before (the same update twice)."""
    values = {"channel": channel, "update_id": update_id, "at": now}
    return await tx.insert_ignore(SeenUpdate, values, ["channel", "update_id"])


Writer = tuple[Conversation, ChatIdentity | None, Person | None]

# This person's conversation in this chat (bound parameters: the statements below are built
# once and read on every message).
_THIS_CONVERSATION = (
    col(Conversation.channel) == bindparam("channel"),
    col(Conversation.chat_id) == bindparam("chat"),
    col(Conversation.user_id) == bindparam("user"),
)


def _with_writer(stmt: Any, channel: Any, user_id: Any) -> Any:
    """Join who wrote: their identity on the channel and their person, when registered."""
    return (
        stmt.outerjoin(ChatIdentity, and_(col(ChatIdentity.channel) == channel,
                                          col(ChatIdentity.external_user_id) == user_id))
        .outerjoin(Person, col(Person.id) == col(ChatIdentity.person_id))
        .execution_options(populate_existing=True)
    )


# The conversation and its writer in one round trip instead of two.
_CONVERSATION = _with_writer(
    select(Conversation, ChatIdentity, Person).where(*_THIS_CONVERSATION),
    col(Conversation.channel), col(Conversation.user_id),
)
_CONVERSATION_LOCKED = _CONVERSATION.with_for_update(of=Conversation)  # not the people rows


def _seen_and_conversation() -> Any:
    """PostgreSQL: the idempotency insert as a CTE of the conversation read; the conversation
    locked in a LATERAL subquery so that the one-row answer says whether the id was new even
    when there is no conversation yet."""
    seen = (
        postgresql.insert(SeenUpdate)
        .values(channel=bindparam("channel"), update_id=bindparam("update"),
                at=bindparam("at"))
        .on_conflict_do_nothing(index_elements=["channel", "update_id"])
        .returning(col(SeenUpdate.channel))
        .cte("seen")
    )
    fresh = select(func.count().label("fresh")).select_from(seen).subquery("fresh")
    locked = select(Conversation).where(*_THIS_CONVERSATION).with_for_update().lateral("conv")
    stmt = (select(fresh.c.fresh, aliased(Conversation, locked), ChatIdentity, Person)
            .select_from(fresh).outerjoin(locked, true()))
    return _with_writer(stmt, locked.c.channel, locked.c.user_id)


_SEEN_AND_CONVERSATION = _seen_and_conversation()


async def load_for_update(
    tx: Tx, channel: str, chat_id: str, user_id: str, now: datetime
) -> Writer:
    """The conversation row of this person in this chat, created if new, locked for the step;
    with the writer's identity and person (None, None when not registered).

    The row almost always exists: look first, insert only when missing (one statement on the
    common path instead of two)."""
    stmt = _CONVERSATION_LOCKED if tx.postgres else _CONVERSATION
    params = {"channel": channel, "chat": chat_id, "user": user_id}
    row = (await tx.execute(stmt, params)).first()
    if row is None:
        values = {
            "channel": channel, "chat_id": chat_id, "user_id": user_id, "state": "idle",
            "data": {}, "language": "", "updated_at": now,
        }
        await tx.insert_ignore(Conversation, values, ["channel", "chat_id", "user_id"])
        row = (await tx.execute(stmt, params)).one()
    return row[0], row[1], row[2]


async def open_update(
    tx: Tx, channel: str, update_id: str, chat_id: str, user_id: str, now: datetime
) -> Writer | None:
    """Record the update and load its conversation (locked) and writer, as `mark_seen` and
    `load_for_update` do; None when the update was handled before.

    On PostgreSQL both go in one statement (`_seen_and_conversation`), a round trip fewer on
    every message. A concurrent copy of the same update waits on the id's unique index and
    then finds it taken, as with the separate insert."""
    if not tx.postgres:
        if not await mark_seen(tx, channel, update_id, now):
            return None
        return await load_for_update(tx, channel, chat_id, user_id, now)
    params = {"channel": channel, "update": update_id, "at": now, "chat": chat_id,
              "user": user_id}
    row = (await tx.execute(_SEEN_AND_CONVERSATION, params)).one()
    if not row[0]:
        return None
    if row[1] is not None:
        return row[1], row[2], row[3]
    return await load_for_update(tx, channel, chat_id, user_id, now)  # a first message here
