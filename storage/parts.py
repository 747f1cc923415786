"""Spare parts used on jobs (`PartUsage`): recording, a ticket's parts, the most used ones,
and a period's usage for reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import col

from storage.models import PartUsage
from storage.uow import Tx


@dataclass(frozen=True)
class Used:
    """One part's total over some usage rows (a ticket, a period)."""

    code: str
    name: str
    name_en: str
    unit: str
    quantity: int
    tickets: int

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


async def record(tx: Tx, row: PartUsage) -> PartUsage:
    tx.add(row)
    await tx.flush()
    return row


async def of_ticket(tx: Tx, ticket_id: int) -> list[PartUsage]:
    stmt = select(PartUsage).where(col(PartUsage.ticket_id) == ticket_id).order_by(
        col(PartUsage.id))
    return await tx.scalars(stmt)


async def most_used(tx: Tx, limit: int) -> list[str]:
    """Codes of the parts used on the most jobs (ties: the larger quantity)."""
    code = col(PartUsage.code)
    jobs = func.count(func.distinct(col(PartUsage.ticket_id)))
    stmt = (select(code).group_by(code)
            .order_by(jobs.desc(), func.sum(col(PartUsage.quantity)).desc(), code)
            .limit(limit))
    return list(await tx.scalars(stmt))


async def between(tx: Tx, start: datetime, end: datetime) -> list[PartUsage]:
    """Usage recorded in [start, end)."""
    stmt = select(PartUsage).where(col(PartUsage.recorded_at) >= start,
                                   col(PartUsage.recorded_at) < end).order_by(col(PartUsage.id))
    return await tx.scalars(stmt)


def totals(rows: list[PartUsage]) -> list[Used]:
    """Per part (code and unit: a list that changed a unit never adds metres to pieces): the
    quantity and the number of jobs, in the order first recorded; the latest row's name."""
    by_part: dict[tuple[str, str], list[PartUsage]] = {}
    for r in rows:
        by_part.setdefault((r.code, r.unit), []).append(r)
    return [Used(code, rs[-1].name, rs[-1].name_en, unit, sum(r.quantity for r in rs),
                len({r.ticket_id for r in rs}))
            for (code, unit), rs in by_part.items()]
