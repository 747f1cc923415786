"""The outbox: outgoing messages written in the same transaction as the change they announce,
and what delivery writes back about them. Every statement on outbox rows lives here.

Delivery (bot/delivery.py) reads rows as `Queued` records — handed over at the commit that
queued them, or claimed by the sweep with `claim_due` — and writes what their sends came to
with `mark_sent`, `retry_later`, `mark_dead` and `mark_unreachable`. The statements on the
path of every reply (the insert in `enqueue`, `mark_sent`) are built once with bound
parameters: building one anew costs about as much as running it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import JSON, bindparam, func, select, update
from sqlmodel import col

from storage.claims import claim
from storage.models import ChatIdentity, Outbox, OutboxState
from storage.uow import Tx


@dataclass(frozen=True, slots=True)
class Queued:
    """A message claimed by this process's delivery worker, ready to send: written claimed
    in the transaction that queued it (`enqueue` with a claimant), or claimed by the sweep
    (`claim_due`). A plain record, not an ORM object: building one of those per reply cost
    as much as the insert."""

    id: int
    channel: str
    chat_id: str
    payload: dict[str, Any]
    attempts: int
    claimed_until: datetime


async def enqueue(tx: Tx, payload: dict[str, Any], now: datetime) -> bool:
    """Queue one message; a second message with the same key is ignored (dedup).

    With a claimant on the transaction the row is written claimed by it, and handed to it
    after the commit (see `storage.uow.Claimant`)."""
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
    claimed_until = now + tx.claimant.lease
    values.update(claimed_by=tx.claimant.worker, claimed_until=claimed_until, attempts=1)
    row_id = await tx.insert_ignore(Outbox, values, ["dedup_key"], returning="id")
    if row_id is None:
        return False
    tx.queued.append(Queued(row_id, payload["channel"], payload["chat_id"], payload, 1,
                            claimed_until))
    return True


_CLAIMED = (col(Outbox.id), col(Outbox.channel), col(Outbox.chat_id), col(Outbox.payload),
            col(Outbox.attempts), col(Outbox.claimed_until))


async def claim_due(
    tx: Tx, now: datetime, worker: str, lease: timedelta, limit: int = 50
) -> list[Queued]:
    """Claim up to `limit` due messages for `worker` until `now + lease`, oldest first."""
    ids = await claim(
        tx, Outbox, due_column=col(Outbox.next_attempt_at), pending=str(OutboxState.PENDING),
        now=now, worker=worker, lease=lease, limit=limit,
    )
    if not ids:
        return []
    stmt = select(*_CLAIMED).where(col(Outbox.id).in_(ids)).order_by(col(Outbox.id))
    return [Queued(*row) for row in (await tx.execute(stmt)).all()]


class Sent(TypedDict):
    """A sent row's mark: the parameters of one run of `MARK_SENT`."""

    row_id: int
    at: datetime
    message_id: str | None


class Retry(TypedDict):
    """A failed send to try again at `at`, unclaimed meanwhile."""

    row_id: int
    at: datetime
    error: str


class Redaction(TypedDict):
    """A settled row's stored payload, its secrets masked (handlers.core.messages.redacted)."""

    row_id: int
    payload: dict[str, Any]


class Dead(TypedDict):
    """A row given up on (out of attempts, or the person is unreachable)."""

    row_id: int
    error: str


# One statement per kind of outcome, run once for many rows (executemany).
MARK_SENT = (
    update(Outbox)
    .where(col(Outbox.id) == bindparam("row_id"))
    .values(state=str(OutboxState.SENT), sent_at=bindparam("at"),
            platform_message_id=bindparam("message_id"), claimed_until=None, last_error="")
)
RETRY_LATER = (
    update(Outbox)
    .where(col(Outbox.id) == bindparam("row_id"))
    .values(next_attempt_at=bindparam("at"), claimed_until=None, claimed_by=None,
            last_error=bindparam("error"))
)
MARK_DEAD = (
    update(Outbox)
    .where(col(Outbox.id) == bindparam("row_id"))
    .values(state=str(OutboxState.DEAD), last_error=bindparam("error"))
)
REDACT = (
    update(Outbox)
    .where(col(Outbox.id) == bindparam("row_id"))
    .values(payload=bindparam("payload", type_=JSON))
)
MARK_UNREACHABLE = (
    update(ChatIdentity)
    .where(col(ChatIdentity.channel) == bindparam("identity_channel"),
           col(ChatIdentity.chat_id) == bindparam("identity_chat"))
    .values(unreachable=True)
)
ERROR_MAX = 500  # Outbox.last_error's length


async def mark_sent(tx: Tx, marks: Sequence[Sent]) -> None:
    """Mark rows sent, with when and the platform's message id (for edits)."""
    await _many(tx, MARK_SENT, marks)


async def retry_later(tx: Tx, retries: Sequence[Retry]) -> None:
    """Release failed rows' claims; each is due again at its `at`."""
    await _many(tx, RETRY_LATER, [{**r, "error": r["error"][:ERROR_MAX]} for r in retries])


async def mark_dead(tx: Tx, dead: Sequence[Dead]) -> None:
    """Give up on rows: they are never claimed again; the reason is kept."""
    await _many(tx, MARK_DEAD, [{**d, "error": d["error"][:ERROR_MAX]} for d in dead])


async def redact(tx: Tx, rows: Sequence[Redaction]) -> None:
    """Replace settled rows' payloads by their masked copies."""
    await _many(tx, REDACT, rows)


async def mark_unreachable(tx: Tx, chats: Iterable[tuple[str, str]]) -> None:
    """Mark (channel, chat id) identities unreachable: the person blocked us or left."""
    await _many(tx, MARK_UNREACHABLE,
                [{"identity_channel": channel, "identity_chat": chat} for channel, chat in chats])


async def _many(tx: Tx, stmt: Any, params: Sequence[Any]) -> None:
    if params:  # run as Core on the session's connection: no ORM bulk-update machinery
        conn = await tx.session.connection()
        await conn.execute(stmt, list(params))


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
    stmt = select(func.count(), func.min(col(Outbox.created_at))).where(
        col(Outbox.state) == str(OutboxState.PENDING)
    )
    count, oldest = (await tx.execute(stmt)).one()
    return int(count), oldest
