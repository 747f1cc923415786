"""Opening a ticket: registered at once, clocks started, paged.

A staff report about a fault monitoring already knows joins that job instead of opening a
second one (the reporter follows it); a report that confirms an alarm still in its grace
period becomes the alarm's ticket at once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from handlers.core import logctx
from handlers.core.context import Ctx
from handlers.flows.alarms import links
from handlers.flows.jobs import clocks, paging
from handlers.flows.jobs.summary import summary_fields, tell_managers
from handlers.flows.records import retention
from handlers.flows.reporter import urge_rows
from storage import tickets, timers
from storage.models import Incident, Person, Ticket

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
    device: str = ""
    channel: str = ""  # where it came from; the update's channel when empty
    site: str = ""  # where the fault is; the reporter's site when empty


async def open_ticket(ctx: Ctx, reporter: Person, new: NewTicket) -> Ticket:
    """A staff report: a new job, or the job of the fault monitoring already knows."""
    incident = await links.matching_incident(ctx, reporter.site, new.category, new.description)
    if incident is not None and incident.ticket_id is not None:
        ticket = await tickets.get(ctx.tx, incident.ticket_id, lock=True)
        if ticket is not None:
            logctx.ticket(ticket.id)
            if new.photos:
                ticket.attachments = [*(ticket.attachments or []), *new.photos]
                ctx.tx.add(ticket)
            await links.follow(ctx, ticket, reporter, new.description)
            return ticket
    # monitoring saw it first and was waiting out its grace period: this is its ticket
    ticket, paged = await start_ticket(ctx, reporter, new, incident=incident)
    promise = "ticket.opened" if paged is not None else "ticket.opened_unstaffed"
    await ctx.reply(promise, urge_rows(ticket.id), **summary_fields(ctx, ticket))
    return ticket


async def start_ticket(
    ctx: Ctx, reporter: Person, new: NewTicket, *, incident: Incident | None = None,
) -> tuple[Ticket, Person | None]:
    """Register the job (status new), start its clocks, page an engineer (nobody: the
    managers are told at once). Returns the ticket and who was paged.

    With an incident, the ticket is that alarm's: linked before the page, which then tells
    the device's story."""
    now = ctx.now
    channel = new.channel or (ctx.incoming.channel if ctx.incoming else "")
    ticket = Ticket(
        reporter_id=reporter.id or 0, site=new.site or reporter.site, category=new.category,
        priority=new.priority, impact=new.impact, description=new.description,
        attachments=new.photos, location=new.location, kb_shown=new.kb_shown,
        device=new.device, channel=channel, created_at=now, updated_at=now,
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
    if incident is not None:
        incident.ticket_id, incident.paged_at = ticket.id, now
        ctx.tx.add(incident)
        ticket.device = ticket.device or incident.device
        await timers.cancel(ctx.tx, links.grace_key(incident.id or 0))
        await tickets.add_event(ctx.tx, ticket, links.Event.LINKED, now, None,
                                incident=incident.id, device=incident.device,
                                alarm=incident.kind, flapping=incident.flapping)
        await ctx.tx.flush()
    if ticket.priority == "P1":
        await tell_managers(ctx, "manager.p1_opened", ticket)
    return ticket, await paging.page_next(ctx, ticket)
