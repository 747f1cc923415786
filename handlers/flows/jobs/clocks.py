"""A ticket's SLA clocks as durable timers: deadlines, 75 % warnings, on-site, pauses.

Timer keys are per ticket and kind, so re-scheduling (reopen, priority change, resume) replaces
the old timer instead of adding one. Their handlers live with the flow that acts on them
(flows/escalation.py: warnings and breaches).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from handlers.core.context import Ctx
from storage import timers
from storage.models import Progress, Ticket


class SlaDue(StrEnum):
    """The SLA timer kinds (stored as text in timer rows)."""

    RESPONSE_DUE = "response_due"
    RESPONSE_WARN = "response_warn"
    ONSITE_DUE = "onsite_due"
    RESOLVE_DUE = "resolve_due"
    RESOLVE_WARN = "resolve_warn"


RESOLVE_KINDS = (SlaDue.RESOLVE_DUE, SlaDue.RESOLVE_WARN)


def _key(kind: SlaDue, ticket: Ticket) -> str:
    return f"{kind}:{ticket.id}"


def _due(kind: SlaDue, ticket: Ticket, due: datetime) -> timers.Due:
    return timers.Due(_key(kind, ticket), kind, due, ticket_id=ticket.id)


async def _at(ctx: Ctx, kind: SlaDue, ticket: Ticket, due: datetime) -> None:
    await timers.schedule_all(ctx.tx, [_due(kind, ticket, due)])


async def start_all(ctx: Ctx, ticket: Ticket, start: datetime | None = None) -> None:
    """Compute every deadline from `start` (default: when the ticket was opened)."""
    sla, begin = ctx.config.sla, start or ticket.created_at
    p = ticket.priority
    ticket.response_due = sla.response_due(p, begin)
    ticket.resolve_due = sla.resolve_due(p, begin)
    ticket.onsite_due = sla.onsite_due(p, begin)
    ctx.tx.add(ticket)
    clocks = []
    if ticket.responded_at is None:
        clocks += [_due(SlaDue.RESPONSE_DUE, ticket, ticket.response_due),
                   _due(SlaDue.RESPONSE_WARN, ticket, sla.warn_at(p, begin, ticket.response_due))]
    if ticket.onsite_due is not None and ticket.progress != Progress.ON_SITE:
        clocks.append(_due(SlaDue.ONSITE_DUE, ticket, ticket.onsite_due))
    await timers.schedule_all(ctx.tx, clocks + _resolve(ctx, ticket, begin))


def _resolve(ctx: Ctx, ticket: Ticket, start: datetime) -> list[timers.Due]:
    warn = ctx.config.sla.warn_at(ticket.priority, start, ticket.resolve_due)
    return [_due(SlaDue.RESOLVE_DUE, ticket, ticket.resolve_due),
            _due(SlaDue.RESOLVE_WARN, ticket, warn)]


async def schedule_resolve(ctx: Ctx, ticket: Ticket, start: datetime) -> None:
    await timers.schedule_all(ctx.tx, _resolve(ctx, ticket, start))


async def recheck_resolution(ctx: Ctx, ticket: Ticket) -> None:
    """After an escalation for a breach: check again when the next tier has had a whole
    resolution window (the ticket's own deadline, which reports judge, stays as it was)."""
    due = ctx.config.sla.resolve_due(ticket.priority, ctx.now)
    await _at(ctx, SlaDue.RESOLVE_DUE, ticket, due)


async def restart_resolution(ctx: Ctx, ticket: Ticket) -> None:
    """A reopened job gets a fresh resolution window from now."""
    ticket.resolve_due = ctx.config.sla.resolve_due(ticket.priority, ctx.now)
    ticket.paused_at = None
    ctx.tx.add(ticket)
    await schedule_resolve(ctx, ticket, ctx.now)


async def responded(ctx: Ctx, ticket: Ticket) -> None:
    await timers.cancel(ctx.tx, _key(SlaDue.RESPONSE_DUE, ticket),
                        _key(SlaDue.RESPONSE_WARN, ticket))


async def on_site(ctx: Ctx, ticket: Ticket) -> None:
    await timers.cancel(ctx.tx, _key(SlaDue.ONSITE_DUE, ticket))


async def stop_all(ctx: Ctx, ticket: Ticket) -> None:
    await timers.cancel_for_ticket(ctx.tx, ticket.id or 0)


async def pause(ctx: Ctx, ticket: Ticket, *, allowed: bool | None = None) -> bool:
    """Stop the resolution clock while waiting for the reporter, if the policy says so
    (`allowed`: the policy's word on another wait, e.g. `consent_pauses`)."""
    if allowed is None:
        allowed = ctx.config.sla.pause_when_waiting
    if not allowed or ticket.paused_at is not None:
        return False
    ticket.paused_at = ctx.now
    ctx.tx.add(ticket)
    await timers.cancel(ctx.tx, *(_key(k, ticket) for k in RESOLVE_KINDS))
    return True


async def resume(ctx: Ctx, ticket: Ticket) -> None:
    """Restart the resolution clock with the service time that was left at the pause."""
    if ticket.paused_at is None:
        return
    sla = ctx.config.sla
    left = sla.remaining(ticket.priority, ticket.paused_at, ticket.resolve_due)
    ticket.resolve_due = sla.resume(ticket.priority, ctx.now, left)
    ticket.paused_at = None
    ctx.tx.add(ticket)
    await _at(ctx, SlaDue.RESOLVE_DUE, ticket, ticket.resolve_due)
    warn = sla.resume(ticket.priority, ctx.now, left * 0.75) if left else ticket.resolve_due
    await _at(ctx, SlaDue.RESOLVE_WARN, ticket, warn)
