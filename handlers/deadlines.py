"""Due timers as entry points: a deadline passing is handled like a message would be.

Every handler re-checks the ticket first: a timer can fire after the job moved on (the
timer row was already claimed), and then it does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from handlers import complaints, escalation, followup, logctx, paging, retention
from handlers.context import Ctx
from handlers.jobs import summary_fields, tell_managers
from handlers.lifecycle import OPEN
from storage import tickets
from storage.models import Person, Ticket, TicketStatus, Timer

log = logging.getLogger(__name__)
Handler = Callable[[Ctx, Ticket, Timer], Awaitable[None]]


async def fire(ctx: Ctx, timer: Timer) -> None:
    if timer.kind.startswith("complaint_"):
        await complaints.remind(ctx, int(timer.payload.get("complaint", 0)), timer.kind)
        return
    # The batch preloaded (and on PostgreSQL locked) the ticket: this is a session look-up.
    logctx.ticket(timer.ticket_id)
    log.debug("timer fires: %s", timer.kind)
    ticket = await ctx.tx.get(Ticket, timer.ticket_id) if timer.ticket_id else None
    entry = HANDLERS.get(timer.kind)
    if ticket is None or entry is None:
        log.warning("timer %s (%s) has no ticket or no handler", timer.key, timer.kind)
        return
    handler, only_open = entry
    if not only_open or TicketStatus(ticket.status) in OPEN:
        await handler(ctx, ticket, timer)


async def _ack_timeout(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    await paging.ack_timed_out(ctx, ticket, int(timer.payload.get("page", 0)))


async def _response_warn(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    if ticket.responded_at is None:
        await tickets.add_event(ctx.tx, ticket, "sla_warning", ctx.now, clock="response")
        await tell_managers(ctx, "manager.response_warning", ticket)


async def _response_due(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    if ticket.responded_at is None:
        await tickets.add_event(ctx.tx, ticket, "sla_breached", ctx.now, clock="response")
        await tell_managers(ctx, "manager.response_breached", ticket)


async def _onsite_due(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    if ticket.progress != "on_site":
        await tickets.add_event(ctx.tx, ticket, "sla_breached", ctx.now, clock="onsite")
        await tell_managers(ctx, "manager.onsite_breached", ticket)


async def _resolve_warn(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    if ticket.resolved_at is not None or ticket.paused_at is not None:
        return
    await tickets.add_event(ctx.tx, ticket, "sla_warning", ctx.now, clock="resolve")
    await _tell_assignee(ctx, ticket, "engineer.resolve_warning")


async def _resolve_due(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    """Breach: recorded, the managers told, and the job goes up a support tier."""
    if ticket.resolved_at is not None or ticket.paused_at is not None:
        return
    await tickets.add_event(ctx.tx, ticket, "sla_breached", ctx.now, clock="resolve")
    await tell_managers(ctx, "manager.resolve_breached", ticket)
    await _tell_assignee(ctx, ticket, "engineer.resolve_breached")
    await escalation.escalate(ctx, ticket, "resolve_breached")


async def _tell_assignee(ctx: Ctx, ticket: Ticket, key: str) -> None:
    if ticket.assignee_id is None:
        return
    engineer = await ctx.tx.get(Person, ticket.assignee_id)
    if engineer is not None:
        await ctx.notify(engineer, key, **summary_fields(ctx, ticket))


def _ticket_only(fn: Callable[[Ctx, Ticket], Awaitable[None]]) -> Handler:
    async def run(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
        await fn(ctx, ticket)

    return run


# kind → (handler, only while the job is open)
HANDLERS: dict[str, tuple[Handler, bool]] = {
    "ack_timeout": (_ack_timeout, True),
    "response_warn": (_response_warn, True),
    "response_due": (_response_due, True),
    "onsite_due": (_onsite_due, True),
    "resolve_warn": (_resolve_warn, True),
    "resolve_due": (_resolve_due, True),
    "confirm_due": (_ticket_only(followup.auto_confirm), False),
    "followup": (_ticket_only(followup.start), False),
    "followup_reminder": (_ticket_only(followup.remind), False),
    "followup_expired": (_ticket_only(followup.expire), False),
    "purge_attachments": (_ticket_only(retention.purge_attachments), False),
    "purge_record": (_ticket_only(retention.purge_record), False),
}
