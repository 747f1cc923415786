"""Durable timers: rows with deterministic keys, claimed by the scheduler sweep."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from storage.claims import claim
from storage.models import Timer, TimerState
from storage.uow import Tx


async def schedule(
    tx: Tx,
    key: str,
    kind: str,
    due_at: datetime,
    *,
    ticket_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Timer:
    """Create or replace the timer named `key` (re-scheduling never duplicates)."""
    rows = await tx.scalars(tx.lock(select(Timer).where(col(Timer.key) == key)))
    timer = rows[0] if rows else Timer(key=key, kind=kind, due_at=due_at)
    timer.kind, timer.due_at, timer.ticket_id = kind, due_at, ticket_id
    timer.payload = payload or {}
    timer.state = str(TimerState.PENDING)
    timer.claimed_by = timer.claimed_until = None
    timer.attempts, timer.fired_at = 0, None
    tx.add(timer)
    await tx.flush()
    return timer


async def cancel(tx: Tx, *keys: str) -> None:
    if not keys:
        return
    await tx.execute(
        update(Timer)
        .where(col(Timer.key).in_(keys), col(Timer.state) == str(TimerState.PENDING))
        .values(state=str(TimerState.CANCELLED))
    )


async def cancel_for_ticket(tx: Tx, ticket_id: int, kinds: list[str] | None = None) -> None:
    stmt = update(Timer).where(
        col(Timer.ticket_id) == ticket_id, col(Timer.state) == str(TimerState.PENDING)
    )
    if kinds is not None:
        stmt = stmt.where(col(Timer.kind).in_(kinds))
    await tx.execute(stmt.values(state=str(TimerState.CANCELLED)))


async def claim_due(
    tx: Tx, now: datetime, worker: str, lease: timedelta, limit: int = 50
) -> list[int]:
    """Claim up to `limit` due timers; their ids in the order they came due."""
    ids = await claim(
        tx, Timer, due_column=col(Timer.due_at), pending=str(TimerState.PENDING),
        now=now, worker=worker, lease=lease, limit=limit,
    )
    if not ids:
        return []
    stmt = select(col(Timer.id)).where(col(Timer.id).in_(ids)).order_by(
        col(Timer.due_at), col(Timer.id)
    )
    return await tx.scalars(stmt)
