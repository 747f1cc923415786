"""The outbox: outgoing messages written in the same transaction as the change they announce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from storage.claims import claim
from storage.models import Outbox, OutboxState
from storage.uow import Tx


@dataclass(frozen=True, slots=True)
class Queued:
    """A row this process has just written claimed by itself: what delivery reads of it,
    without building an ORM object per reply (that cost as much as the insert)."""

    id: int
    channel: str
    chat_id: str
    payload: dict[str, Any]
    attempts: int
    claimed_until: datetime | None


Sendable = Outbox | Queued  # what delivery takes: claimed ORM rows, or rows it was handed


async def enqueue(tx: Tx, payload: dict[str, Any], now: datetime) -> bool:
    """Queue one message; a second message with the same key is ignored (dedup).

    With a claimant on the transaction the row is written claimed by it, and handed to it
    after the commit (see `Claimant`)."""
    values: dict[str, Any] = {
        "dedup_key": payload["key"],
        "channel": payload["channel"],
        "chat_id": payload["chat_id"],
        "payload": payload,
        "state": str(OutboxState.PENDING),
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "last_error": "",
    }
    if tx.claimant is None:
        return bool(await tx.insert_ignore(Outbox, values, ["dedup_key"]))
    values.update(claimed_by=tx.claimant.worker, claimed_until=now + tx.claimant.lease,
                  attempts=1)
    row_id = await tx.insert_ignore(Outbox, values, ["dedup_key"], returning="id")
    if row_id is None:
        return False
    tx.queued.append(Queued(row_id, payload["channel"], payload["chat_id"], payload, 1,
                            values["claimed_until"]))
    return True


async def claim_due(
    tx: Tx, now: datetime, worker: str, lease: timedelta, limit: int = 50
) -> list[Outbox]:
    ids = await claim(
        tx, Outbox, due_column=col(Outbox.next_attempt_at), pending=str(OutboxState.PENDING),
        now=now, worker=worker, lease=lease, limit=limit,
    )
    if not ids:
        return []
    stmt = select(Outbox).where(col(Outbox.id).in_(ids)).order_by(col(Outbox.id))
    return await tx.scalars(stmt)


async def by_key(tx: Tx, key: str) -> Outbox | None:
    rows = await tx.scalars(select(Outbox).where(col(Outbox.dedup_key) == key))
    return rows[0] if rows else None


async def history(tx: Tx, channel: str, chat_id: str, limit: int = 200) -> list[Outbox]:
    """The latest messages of a chat, oldest first (edits are separate rows; see callers)."""
    stmt = (
        select(Outbox)
        .where(col(Outbox.channel) == channel, col(Outbox.chat_id) == chat_id)
        .order_by(col(Outbox.id).desc())
        .limit(limit)
    )
    return list(reversed(await tx.scalars(stmt)))


async def backlog(tx: Tx) -> tuple[int, datetime | None]:
    """Pending messages and the creation time of the oldest (for health and metrics)."""
    from sqlalchemy import func

    stmt = select(func.count(), func.min(col(Outbox.created_at))).where(
        col(Outbox.state) == str(OutboxState.PENDING)
    )
    count, oldest = (await tx.execute(stmt)).one()
    return int(count), oldest
