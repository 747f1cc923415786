"""Claiming due rows (timers, outbox) with a lease, safely across replicas.

One statement: UPDATE … WHERE id IN (SELECT … LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING id.
SKIP LOCKED keeps PostgreSQL replicas off each other's rows; SQLite serialises writers. The
lease (claimed_until) lets another replica take over rows of a replica that died mid-work.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from storage.uow import Tx


async def claim(
    tx: Tx,
    model: Any,
    *,
    due_column: Any,
    pending: str,
    now: datetime,
    worker: str,
    lease: timedelta,
    limit: int,
) -> list[int]:
    free = or_(model.claimed_until.is_(None), model.claimed_until < now)
    sub = (
        select(model.id)
        .where(model.state == pending, due_column <= now, free)
        .order_by(due_column, model.id)
        .limit(limit)
    )
    if tx.postgres:
        sub = sub.with_for_update(skip_locked=True)
    stmt = (
        update(model)
        .where(model.id.in_(sub.scalar_subquery()), model.state == pending, free)
        .values(claimed_by=worker, claimed_until=now + lease, attempts=model.attempts + 1)
        .returning(model.id)
    )
    rows = (await tx.execute(stmt)).all()
    return sorted(r[0] for r in rows)
