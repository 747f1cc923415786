"""The spare parts of a report: per part, how many were used and on how many jobs.

Definition: parts recorded in the period (when the engineer recorded them, right after the
resolution), of tickets at the chosen sites; one line per part and unit, most jobs first. The
chat and the terminal show the first MAX_SHOWN; CSV and JSON list them all (`Figures.parts`,
keyed by part code).
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import select
from sqlmodel import col

from handlers.flows.reporting.period import Period
from storage import parts
from storage import sites as site_names
from storage.models import PartUsage, Ticket
from storage.uow import Tx

MAX_SHOWN = 10


async def compute(tx: Tx, period: Period, sites: tuple[str, ...] = ()) -> dict[str, parts.Used]:
    rows = await parts.between(tx, period.start, period.end)
    if sites and rows:
        where = dict((await tx.execute(select(col(Ticket.id), col(Ticket.site)).where(
            col(Ticket.id).in_(sorted({r.ticket_id for r in rows}))))).all())
        rows = [r for r in rows if site_names.covers(sites, where.get(r.ticket_id) or "")]
    used = sorted(parts.totals(rows), key=lambda u: (-u.tickets, -u.quantity, u.code))
    return _keyed(used, rows)


def _keyed(used: list[parts.Used], rows: list[PartUsage]) -> dict[str, parts.Used]:
    """By code; a code the list once had in another unit keeps both, as `code.unit`."""
    units: dict[str, set[str]] = {}
    for r in rows:
        units.setdefault(r.code, set()).add(r.unit)
    return {u.code if len(units[u.code]) == 1 else f"{u.code}.{u.unit}": u for u in used}


class Labelling(Protocol):
    """What of render.Labels the lines need (render imports this module, not the reverse)."""

    @property
    def lang(self) -> str: ...

    def __call__(self, key: str, **fields: Any) -> str: ...

    def name(self, section: str, value: str) -> str: ...


def rows(used: dict[str, parts.Used], lb: Labelling) -> list[tuple[str, str]]:
    """The report's lines; nothing when no part was used."""
    if not used:
        return []
    out = [(lb("parts.heading"), lb("parts.summary", kinds=len(used)))]
    for u in list(used.values())[:MAX_SHOWN]:
        out.append((lb("parts.part", name=u.label(lb.lang), code=u.code),
                    lb("parts.value", quantity=u.quantity, unit=lb.name("parts.unit", u.unit),
                       jobs=u.tickets)))
    if len(used) > MAX_SHOWN:
        out.append(("…", lb("parts.more", count=len(used) - MAX_SHOWN)))
    return out
