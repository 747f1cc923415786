"""Durable timers: rows with deterministic keys, claimed by the scheduler sweep."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from storage.claims import claim
from storage.models import Timer, TimerState
from storage.uow import Tx


@dataclass(frozen=True, slots=True)
class Due:
    """One timer to (re)schedule: see `schedule`."""

    key: str
    kind: str
    due_at: datetime
    ticket_id: int | None = None
    payload: dict[str, Any] | None = None


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
    (timer,) = await schedule_all(tx, [Due(key, kind, due_at, ticket_id, payload)])
    return timer


async def schedule_all(tx: Tx, items: Sequence[Due]) -> list[Timer]:
    """`schedule` for several timers of distinct keys: one look-up and one flush for all (a
    new ticket arms five SLA clocks; two round trips each made ticket opening slow)."""
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise ValueError(f"timer keys repeat: {keys}")
    found = {t.key: t for t in await tx.scalars(tx.lock(
        select(Timer).where(col(Timer.key).in_(keys))))}
    armed = []
    for item in items:
        timer = found.get(item.key) or Timer(key=item.key, kind=item.kind, due_at=item.due_at)
        timer.kind, timer.due_at, timer.ticket_id = item.kind, item.due_at, item.ticket_id
        timer.payload = item.payload or {}
        timer.state = str(TimerState.PENDING)
        timer.claimed_by = timer.claimed_until = None
        timer.attempts, timer.fired_at = 0, None
        tx.add(timer)
        armed.append(timer)
    await tx.flush()
    return armed


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
