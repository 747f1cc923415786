"""No answer: one reminder to the reporter, then the engineer is told."""

from __future__ import annotations

from handlers.core.context import Ctx
from handlers.flows.consent.base import (
    Due,
    Event,
    Request,
    answer_rows,
    on_site_rows,
    requests,
    router,
    schedule,
    tell_reporter,
    waiting,
)
from handlers.flows.jobs.summary import number
from storage import tickets
from storage.models import Person, Ticket, Timer


async def _still_waiting(ctx: Ctx, ticket: Ticket, timer: Timer) -> Request | None:
    found = requests(await tickets.events(ctx.tx, ticket.id or 0))
    asked = waiting(ticket, found)
    return asked if asked is not None and asked.n == timer.payload.get("n") else None


@router.ticket_timer(Due.REMIND, only_open=True)
async def remind(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    asked = await _still_waiting(ctx, ticket, timer)
    if asked is None:
        return
    engineer = await ctx.tx.get(Person, asked.engineer_id) if asked.engineer_id else None
    sent = await tell_reporter(ctx, ticket, "consent.reminder", answer_rows(ticket, asked.n),
                               name=engineer.name if engineer else "-", plan=asked.plan)
    await tickets.add_event(ctx.tx, ticket, Event.REMINDED, ctx.now, n=asked.n, message=sent)
    await schedule(ctx, ticket, Due.LAPSE, asked.n)


@router.ticket_timer(Due.LAPSE, only_open=True)
async def lapse(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    asked = await _still_waiting(ctx, ticket, timer)
    if asked is None:
        return
    await tickets.add_event(ctx.tx, ticket, Event.LAPSED, ctx.now, n=asked.n)
    engineer = await ctx.tx.get(Person, asked.engineer_id) if asked.engineer_id else None
    if engineer is not None:
        await ctx.notify(engineer, "consent.lapsed", on_site_rows(ticket, asked.n),
                         plan=asked.plan,
                         minutes=2 * ctx.config.consent_reminder_minutes,
                         number=number(ticket))
