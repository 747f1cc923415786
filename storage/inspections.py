"""Queries about scheduled inspections: their runs, the readings taken, and the one timer per
plan that brings the next occurrence."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlmodel import col, or_

from storage.models import InspectionReading, InspectionRun, RunState, Timer, TimerState
from storage.uow import Tx

UNFINISHED = (RunState.DUE, RunState.STARTED, RunState.PAUSED)
IS_UNFINISHED = or_(*(col(InspectionRun.state) == str(s) for s in UNFINISHED))


async def get(tx: Tx, run_id: int, *, lock: bool = False) -> InspectionRun | None:
    if not lock:
        return await tx.get(InspectionRun, run_id)
    stmt = select(InspectionRun).where(col(InspectionRun.id) == run_id)
    rows = await tx.scalars(tx.lock(stmt).execution_options(populate_existing=True))
    return rows[0] if rows else None


async def occurrence(tx: Tx, plan_key: str, due_at: datetime) -> InspectionRun | None:
    """The run of this plan due at this time, if it was created already."""
    stmt = select(InspectionRun).where(col(InspectionRun.plan_key) == plan_key,
                                       col(InspectionRun.due_at) == due_at)
    rows = await tx.scalars(stmt)
    return rows[0] if rows else None


async def unfinished_of(tx: Tx, person_id: int) -> list[InspectionRun]:
    """A person's runs not done or missed yet, the earliest due first."""
    stmt = select(InspectionRun).where(col(InspectionRun.assignee_id) == person_id,
                                       IS_UNFINISHED).order_by(col(InspectionRun.due_at),
                                                               col(InspectionRun.id))
    return await tx.scalars(stmt)


async def unassigned(tx: Tx) -> list[InspectionRun]:
    """Runs nobody was on duty for, not finished yet: any engineer may take one."""
    stmt = select(InspectionRun).where(col(InspectionRun.assignee_id).is_(None),
                                       IS_UNFINISHED).order_by(col(InspectionRun.due_at),
                                                               col(InspectionRun.id))
    return await tx.scalars(stmt)


async def readings(tx: Tx, run_id: int) -> list[InspectionReading]:
    stmt = select(InspectionReading).where(col(InspectionReading.run_id) == run_id) \
        .order_by(col(InspectionReading.id))
    return await tx.scalars(stmt)


async def readings_of(tx: Tx, run_ids: Iterable[int]) -> list[InspectionReading]:
    ids = list(run_ids)
    if not ids:
        return []
    stmt = select(InspectionReading).where(col(InspectionReading.run_id).in_(ids)) \
        .order_by(col(InspectionReading.run_id), col(InspectionReading.id))
    return await tx.scalars(stmt)


async def due_between(tx: Tx, start: datetime, end: datetime) -> list[InspectionRun]:
    """Runs due in [start, end), in the order they came due."""
    stmt = select(InspectionRun).where(col(InspectionRun.due_at) >= start,
                                       col(InspectionRun.due_at) < end) \
        .order_by(col(InspectionRun.due_at), col(InspectionRun.id))
    return await tx.scalars(stmt)


async def timer(tx: Tx, key: str) -> Timer | None:
    rows = await tx.scalars(select(Timer).where(col(Timer.key) == key))
    return rows[0] if rows else None


async def pending_timers(tx: Tx, kind: str) -> list[Timer]:
    stmt = select(Timer).where(col(Timer.kind) == kind,
                               col(Timer.state) == str(TimerState.PENDING))
    return await tx.scalars(stmt)
