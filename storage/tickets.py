"""Queries about tickets, their audit trail and their pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlmodel import col

from storage.models import Page, PageState, Ticket, TicketEvent, TicketStatus
from storage.people import IS_OPEN
from storage.uow import Tx

NUMBER_PREFIX = "FL-"


def number(ticket_id: int) -> str:
    """The number people see: FL-000123."""
    return f"{NUMBER_PREFIX}{ticket_id:06d}"


def parse_number(text: str) -> int | None:
    """FL-000123, fl-123 or 123 → 123; None when it is not a ticket number."""
    s = text.strip().upper().removeprefix(NUMBER_PREFIX)
    return int(s) if s.isdigit() and 0 < int(s) < 2**31 else None


async def get(tx: Tx, ticket_id: int, *, lock: bool = False) -> Ticket | None:
    if lock:
        rows = await tx.scalars(
            tx.lock(select(Ticket).where(col(Ticket.id) == ticket_id)).execution_options(
                populate_existing=True
            )
        )
        return rows[0] if rows else None
    return await tx.get(Ticket, ticket_id)


async def add_event(
    tx: Tx,
    ticket: Ticket,
    kind: str,
    now: datetime,
    actor_id: int | None = None,
    **details: Any,
) -> TicketEvent:
    assert ticket.id is not None
    event = TicketEvent(ticket_id=ticket.id, at=now, actor_id=actor_id, kind=kind, details=details)
    tx.add(event)
    return event


async def events(tx: Tx, ticket_id: int) -> list[TicketEvent]:
    stmt = select(TicketEvent).where(col(TicketEvent.ticket_id) == ticket_id).order_by(
        col(TicketEvent.at), col(TicketEvent.id)
    )
    return await tx.scalars(stmt)


_OPEN = select(Ticket).where(IS_OPEN)
_OPEN_BY = {  # built once: /status runs one of these on every call
    (False, False): _OPEN.order_by(col(Ticket.id)),
    (True, False): _OPEN.where(col(Ticket.reporter_id) == bindparam("reporter"))
    .order_by(col(Ticket.id)),
    (False, True): _OPEN.where(col(Ticket.assignee_id) == bindparam("assignee"))
    .order_by(col(Ticket.id)),
    (True, True): _OPEN.where(col(Ticket.reporter_id) == bindparam("reporter"),
                              col(Ticket.assignee_id) == bindparam("assignee"))
    .order_by(col(Ticket.id)),
}


async def open_tickets(
    tx: Tx, *, reporter_id: int | None = None, assignee_id: int | None = None
) -> list[Ticket]:
    stmt = _OPEN_BY[reporter_id is not None, assignee_id is not None]
    params = {"reporter": reporter_id, "assignee": assignee_id}
    return await tx.scalars(stmt, {k: v for k, v in params.items() if v is not None})


_CURRENT_OF_REPORTER = (
    select(Ticket)
    .where(or_(IS_OPEN, col(Ticket.status) == str(TicketStatus.RESOLVED)),
           col(Ticket.reporter_id) == bindparam("reporter"))
    .order_by(col(Ticket.id))
)


async def current_of_reporter(tx: Tx, reporter_id: int) -> list[Ticket]:
    """A reporter's open tickets and those fixed but not closed yet (the call-back is still
    to come): what their next words are likely about ("thanks, it works again")."""
    return await tx.scalars(_CURRENT_OF_REPORTER, {"reporter": reporter_id})


async def listing(
    tx: Tx, *, status: str | None = None, limit: int = 100
) -> list[Ticket]:
    stmt = select(Ticket).order_by(col(Ticket.id).desc()).limit(limit)
    if status:
        stmt = stmt.where(col(Ticket.status) == status)
    return await tx.scalars(stmt)


async def pages(tx: Tx, ticket_id: int) -> list[Page]:
    stmt = select(Page).where(col(Page.ticket_id) == ticket_id).order_by(col(Page.id))
    return await tx.scalars(stmt)


async def pending_page(tx: Tx, ticket_id: int, person_id: int) -> Page | None:
    stmt = select(Page).where(
        col(Page.ticket_id) == ticket_id,
        col(Page.person_id) == person_id,
        col(Page.state) == str(PageState.PENDING),
    )
    rows = await tx.scalars(stmt)
    return rows[0] if rows else None


async def resolved_of(tx: Tx, reporter_id: int) -> list[Ticket]:
    stmt = select(Ticket).where(
        col(Ticket.reporter_id) == reporter_id, col(Ticket.status) == "resolved"
    ).order_by(col(Ticket.id))
    return await tx.scalars(stmt)


async def delete_record(tx: Tx, ticket_id: int) -> None:
    """Remove a ticket and everything that points at it (end of the retention period)."""
    from sqlalchemy import delete, update

    from storage.models import (
        Complaint,
        Incident,
        InspectionReading,
        KbDraft,
        PartUsage,
        SelfServiceAttempt,
        TicketFollower,
        Timer,
    )

    owned: tuple[Any, ...] = (TicketEvent, Page, TicketFollower, PartUsage)
    for model in owned:
        await tx.execute(delete(model).where(col(model.ticket_id) == ticket_id))
    pointing: tuple[Any, ...] = (SelfServiceAttempt, Complaint, KbDraft, Timer, Incident,
                                 InspectionReading)  # the reading stays, unlinked
    for model in pointing:
        await tx.execute(
            update(model).where(col(model.ticket_id) == ticket_id).values(ticket_id=None)
        )
    await tx.execute(delete(Ticket).where(col(Ticket.id) == ticket_id))


async def recent_of(tx: Tx, reporter_id: int, limit: int = 3) -> list[Ticket]:
    stmt = select(Ticket).where(col(Ticket.reporter_id) == reporter_id).order_by(
        col(Ticket.id).desc()
    ).limit(limit)
    return await tx.scalars(stmt)
