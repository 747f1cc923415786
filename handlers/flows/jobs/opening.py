"""Opening a ticket from a finished report: registered at once, clocks started, paged."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from handlers.core import logctx
from handlers.core.context import Ctx
from handlers.flows.jobs import clocks, paging
from handlers.flows.jobs.summary import summary_fields, tell_managers
from handlers.flows.records import retention
from handlers.flows.reporter import urge_rows
from storage import tickets
from storage.models import Person, Ticket

log = logging.getLogger(__name__)


class Event(StrEnum):
    CREATED = "created"


@dataclass
class NewTicket:
    """A report as the reporter wrote it, ready to become a ticket."""

    description: str
    impact: str
    priority: str
    category: str = "general"
    kb_shown: list[str] = field(default_factory=list)
    photos: list[dict[str, Any]] = field(default_factory=list)
    location: list[float] | None = None


async def open_ticket(ctx: Ctx, reporter: Person, new: NewTicket) -> Ticket:
    """Register the job (status new), start its clocks, tell the reporter, page an engineer."""
    now = ctx.now
    ticket = Ticket(
        reporter_id=reporter.id or 0, site=reporter.site, category=new.category,
        priority=new.priority, impact=new.impact, description=new.description,
        attachments=new.photos, location=new.location, kb_shown=new.kb_shown,
        channel=ctx.incoming.channel if ctx.incoming else "", created_at=now, updated_at=now,
        response_due=now, resolve_due=now,  # set by the clocks just below
    )
    ctx.tx.add(ticket)
    await ctx.tx.flush()
    logctx.ticket(ticket.id)
    log.info("ticket opened: %s, %s, impact %s", ticket.priority, ticket.category, ticket.impact)
    await tickets.add_event(
        ctx.tx, ticket, Event.CREATED, now, reporter.id, priority=ticket.priority,
        impact=ticket.impact, category=ticket.category, kb_shown=ticket.kb_shown,
    )
    await clocks.start_all(ctx, ticket)
    await retention.keep_record(ctx, ticket)
    if ticket.priority == "P1":
        await tell_managers(ctx, "manager.p1_opened", ticket)
    paged = await paging.page_next(ctx, ticket)  # nobody: the managers are told at once
    promise = "ticket.opened" if paged is not None else "ticket.opened_unstaffed"
    await ctx.reply(promise, urge_rows(ticket.id), **summary_fields(ctx, ticket))
    return ticket
