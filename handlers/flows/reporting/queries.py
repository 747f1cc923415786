"""What a report reads from storage, in a handful of queries (one period at a time).

Everything is loaded once and counted in Python: a quarter of an orchard's tickets is a few
thousand rows at most, and one pass keeps every figure consistent with the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import col

from handlers.flows import escalation, followup
from handlers.flows.jobs.status import STATUS_EVENT
from handlers.flows.reporting.period import Period
from storage.models import Complaint, Person, SelfServiceAttempt, Ticket, TicketEvent
from storage.uow import Tx

ONSITE_PROGRESS = frozenset({"on_the_way", "on_site"})
COUNTED_EVENTS = (escalation.Event.SLA_BREACHED, escalation.Event.ESCALATED,
                  followup.Event.RECURRENCE)


@dataclass
class History:
    """The rows one report is computed from."""

    tickets: list[Ticket]
    events: list[TicketEvent]  # COUNTED_EVENTS that happened in the period
    onsite_ids: set[int]  # tickets that ever went on the way / on site
    attempts: list[SelfServiceAttempt]  # self-service attempts in the period
    complaints: int
    names: dict[int, str] = field(default_factory=dict)


def _in(column: Any, period: Period) -> Any:
    c = col(column)
    return (c >= period.start) & (c < period.end)


async def load(tx: Tx, period: Period) -> History:
    tickets = await tx.scalars(select(Ticket).where(or_(
        _in(Ticket.created_at, period), _in(Ticket.response_due, period),
        _in(Ticket.resolve_due, period), _in(Ticket.resolved_at, period),
    )).order_by(col(Ticket.id)))
    events = await tx.scalars(select(TicketEvent).where(
        col(TicketEvent.kind).in_(COUNTED_EVENTS), _in(TicketEvent.at, period)
    ).order_by(col(TicketEvent.id)))
    attempts = await tx.scalars(select(SelfServiceAttempt).where(
        _in(SelfServiceAttempt.at, period)
    ).order_by(col(SelfServiceAttempt.id)))
    complaints = await tx.scalars(select(col(Complaint.id)).where(
        _in(Complaint.created_at, period)
    ))
    return History(
        tickets=tickets, events=events, attempts=attempts, complaints=len(complaints),
        onsite_ids=await onsite_ids(tx, [t.id for t in tickets if t.id is not None]),
        names=await names(tx),
    )


async def onsite_ids(tx: Tx, ticket_ids: list[int]) -> set[int]:
    """Tickets with a status event whose progress was on the way or on site."""
    if not ticket_ids:
        return set()
    stmt = select(TicketEvent).where(
        col(TicketEvent.kind) == STATUS_EVENT, col(TicketEvent.ticket_id).in_(ticket_ids)
    )
    return {e.ticket_id for e in await tx.scalars(stmt)
            if (e.details or {}).get("progress") in ONSITE_PROGRESS}


async def names(tx: Tx) -> dict[int, str]:
    return {p.id: p.name for p in await tx.scalars(select(Person)) if p.id is not None}
