"""Queries about shift swaps (/swap): the agreed ones that change who is on duty, and the
questions still open."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import col

from storage.models import ShiftSwap, SwapState
from storage.uow import Tx


async def accepted_between(tx: Tx, start: datetime, end: datetime) -> list[ShiftSwap]:
    """Agreed swaps of shifts overlapping [start, end), in the order they were agreed (a
    shift passed on twice ends with the last one)."""
    stmt = select(ShiftSwap).where(
        col(ShiftSwap.state) == str(SwapState.ACCEPTED),
        col(ShiftSwap.starts_at) < end, col(ShiftSwap.ends_at) > start,
    ).order_by(col(ShiftSwap.answered_at), col(ShiftSwap.id))
    return await tx.scalars(stmt)


async def asked(tx: Tx, from_id: int, site: str, starts_at: datetime) -> ShiftSwap | None:
    """The question still open about this shift of this person, if any."""
    stmt = select(ShiftSwap).where(
        col(ShiftSwap.from_id) == from_id, col(ShiftSwap.site) == site,
        col(ShiftSwap.starts_at) == starts_at, col(ShiftSwap.state) == str(SwapState.ASKED),
    ).limit(1)
    rows = await tx.scalars(stmt)
    return rows[0] if rows else None


async def get(tx: Tx, swap_id: int) -> ShiftSwap | None:
    """A swap, locked: the colleague's answer and the expiry timer may meet."""
    rows = await tx.scalars(tx.lock(select(ShiftSwap).where(col(ShiftSwap.id) == swap_id))
                            .execution_options(populate_existing=True))
    return rows[0] if rows else None
