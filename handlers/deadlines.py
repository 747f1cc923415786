"""Due timers as entry points: an SLA deadline passing is handled like a message would be."""

from __future__ import annotations

import logging

from handlers.context import Ctx
from handlers.jobs import tell_managers
from handlers.lifecycle import OPEN
from storage import tickets
from storage.models import Person, Ticket, TicketStatus, Timer

log = logging.getLogger(__name__)


async def fire(ctx: Ctx, timer: Timer) -> None:
    ticket = await tickets.get(ctx.tx, timer.ticket_id, lock=True) if timer.ticket_id else None
    if ticket is None:
        log.warning("timer %s has no ticket", timer.key)
        return
    if timer.kind == "response_due":
        await _response_due(ctx, ticket)
    elif timer.kind == "resolve_due":
        await _resolve_due(ctx, ticket)
    else:
        log.warning("timer %s of unknown kind %s", timer.key, timer.kind)


async def _response_due(ctx: Ctx, ticket: Ticket) -> None:
    if ticket.responded_at is not None or TicketStatus(ticket.status) not in OPEN:
        return
    await tickets.add_event(ctx.tx, ticket, "sla_breached", ctx.now, clock="response")
    await tell_managers(ctx, "manager.response_breached", ticket)


async def _resolve_due(ctx: Ctx, ticket: Ticket) -> None:
    if ticket.resolved_at is not None or TicketStatus(ticket.status) not in OPEN:
        return
    await tickets.add_event(ctx.tx, ticket, "sla_breached", ctx.now, clock="resolve")
    await tell_managers(ctx, "manager.resolve_breached", ticket)
    if ticket.assignee_id is not None:
        engineer = await ctx.tx.get(Person, ticket.assignee_id)
        if engineer is not None:
            await ctx.notify(engineer, "engineer.resolve_breached",
                             number=tickets.number(ticket.id or 0))
