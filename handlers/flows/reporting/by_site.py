"""A report limited to some sites: the same history, keeping only what belongs to them.

Where a row belongs (compared with `storage.sites.key`, so spellings of one site agree):
- tickets, and the events counted on them: the ticket's site;
- self-service attempts: the site of the person who tried;
- complaints: their ticket's site, else the complainant's;
- alarms and incidents: the incident's site (the device's, from the registry).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from handlers.flows.reporting.period import Period
from handlers.flows.reporting.queries import History
from storage import sites as site_names
from storage.models import AlarmRecord, Complaint, Incident, Person, Ticket
from storage.uow import Tx


def _in(column: Any, period: Period) -> Any:
    c = col(column)
    return (c >= period.start) & (c < period.end)


async def narrow(tx: Tx, h: History, period: Period, sites: tuple[str, ...]) -> History:
    """`h` with only the rows of these sites (() = all, `h` itself)."""
    if not sites:
        return h

    def ours(site: str | None) -> bool:
        return site_names.covers(sites, site or "")

    kept = [t for t in h.tickets if ours(t.site)]
    ticket_sites = await _ticket_sites(tx, {e.ticket_id for e in h.events})
    person_sites = dict((await tx.execute(select(col(Person.id), col(Person.site)))).all())
    return replace(
        h, tickets=kept,
        events=[e for e in h.events if ours(ticket_sites.get(e.ticket_id))],
        onsite_ids=h.onsite_ids & {t.id for t in kept if t.id is not None},
        attempts=[a for a in h.attempts if ours(person_sites.get(a.person_id))],
        complaints=await _complaints(tx, period, person_sites, ours),
    )


async def _ticket_sites(tx: Tx, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await tx.execute(select(col(Ticket.id), col(Ticket.site))
                            .where(col(Ticket.id).in_(sorted(ids))))
    return dict(rows.all())


async def _complaints(tx: Tx, period: Period, person_sites: dict[int, str], ours: Any) -> int:
    rows = (await tx.execute(select(col(Complaint.person_id), col(Ticket.site))
                             .outerjoin(Ticket, col(Ticket.id) == col(Complaint.ticket_id))
                             .where(_in(Complaint.created_at, period)))).all()
    return sum(1 for person_id, ticket_site in rows
               if ours(ticket_site if ticket_site is not None else person_sites.get(person_id)))


async def alerts(tx: Tx, period: Period, sites: tuple[str, ...]) -> int:
    """Alarm states received in the period from incidents at these sites."""
    rows = await tx.scalars(select(col(Incident.site))
                            .join(AlarmRecord, col(AlarmRecord.incident_id) == col(Incident.id))
                            .where(_in(AlarmRecord.received_at, period)))
    return sum(1 for site in rows if site_names.covers(sites, site))


def incidents(rows: list[Incident], sites: tuple[str, ...]) -> list[Incident]:
    return [i for i in rows if site_names.covers(sites, i.site)]
