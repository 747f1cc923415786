"""The reporter's answers about a resolved job: fixed, or not yet."""

from __future__ import annotations

from handlers import lifecycle
from handlers.context import Ctx
from handlers.engineer import work_buttons
from handlers.errors import NotAllowed, StaleAction
from handlers.jobs import schedule_sla_timers, summary_fields
from storage import tickets, timers
from storage.models import Person, Ticket, TicketStatus


def _reporter(ctx: Ctx, ticket: Ticket) -> Person:
    if ctx.person is None or ctx.person.id != ticket.reporter_id:
        raise NotAllowed("error.not_reporter", number=tickets.number(ticket.id or 0))
    if ticket.status != TicketStatus.RESOLVED:
        raise StaleAction(number=tickets.number(ticket.id or 0))
    return ctx.person


async def confirm_fixed(ctx: Ctx, ticket: Ticket) -> None:
    me = _reporter(ctx, ticket)
    ticket.confirmed_at = ticket.closed_at = ctx.now
    await lifecycle.move(ctx.tx, ticket, TicketStatus.CLOSED, ctx.now, me.id, confirmed=True)
    await timers.cancel_for_ticket(ctx.tx, ticket.id or 0)
    fields = summary_fields(ctx, ticket)
    await ctx.reply("reporter.thanks_closed", **fields)
    engineer = await ctx.tx.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    if engineer:
        await ctx.notify(engineer, "engineer.confirmed", name=me.name, **fields)


async def not_fixed(ctx: Ctx, ticket: Ticket) -> None:
    """Reopen to the same engineer with the resolution clock started again."""
    me = _reporter(ctx, ticket)
    await lifecycle.move(ctx.tx, ticket, TicketStatus.REOPENED, ctx.now, me.id)
    ticket.resolved_at = None
    ticket.resolve_due = ctx.config.sla.resolve_due(ticket.priority, ctx.now)
    await schedule_sla_timers(ctx, ticket, response=False)
    fields = summary_fields(ctx, ticket)
    await ctx.reply("reporter.reopened", **fields)
    engineer = await ctx.tx.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    if engineer:
        await ctx.notify(engineer, "engineer.reopened", work_buttons(ticket.id or 0),
                         name=me.name, **fields)
