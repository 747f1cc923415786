"""Consent got by phone: the reporter cannot be asked in chat, or did not answer; the engineer
records who agreed."""

from __future__ import annotations

from handlers.core import logctx
from handlers.core.context import IDLE, Ctx
from handlers.core.errors import BadButton, NotAllowed, StaleAction
from handlers.core.messages import FileRef
from handlers.core.texts import lazy
from handlers.flows.consent.base import (
    REQUEST,
    WHO_MAX_CHARS,
    Action,
    Due,
    Event,
    Phoned,
    State,
    close_buttons,
    requests,
    router,
    start_remote,
    tell_reporter,
    timer_key,
    waiting,
)
from handlers.flows.engineer.keyboard import work_buttons
from handlers.flows.jobs.summary import number
from storage import tickets, timers
from storage.models import Ticket

# ── consent by phone: the reporter cannot be asked in chat, or did not answer ─────────────

@router.ticket_button(Action.PHONE, arg=REQUEST)
async def phoned(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    """已电话征得同意: only the engineer who asked, for the request still waiting."""
    found = requests(await tickets.events(ctx.tx, ticket.id or 0))
    asked = next((r for r in found if r.n == int(arg)), None)
    if asked is None:
        raise BadButton()
    if ctx.person is None or ctx.person.id != asked.engineer_id:
        raise NotAllowed("error.not_assignee", number=number(ticket))
    if asked.answer:
        raise StaleAction("consent.already", number=number(ticket),
                          answer=lazy(f"consent.answer.{asked.answer}"),
                          when=asked.answered_at or ctx.now)
    if waiting(ticket, found) is not asked:
        raise StaleAction("consent.withdrawn", number=number(ticket))
    ctx.set_state(State.PHONE, Phoned(ticket=ticket.id or 0, n=asked.n))
    await ctx.reply("consent.phone_who", number=number(ticket), plan=asked.plan)


@router.text(State.PHONE)
async def phone_who(ctx: Ctx, text: str) -> None:
    who = " ".join(text.split())
    if len(who) < 2 or len(who) > WHO_MAX_CHARS:
        await ctx.reply("consent.phone_who_again", limit=WHO_MAX_CHARS)
        return
    data = ctx.data(Phoned)
    ticket = await tickets.get(ctx.tx, data.ticket, lock=True)
    found = requests(await tickets.events(ctx.tx, data.ticket)) if ticket else []
    asked = waiting(ticket, found) if ticket else None
    if ticket is None or asked is None or asked.n != data.n or ctx.person is None \
            or ctx.person.id != asked.engineer_id:
        raise StaleAction("consent.withdrawn", number=tickets.number(data.ticket), reset=True)
    logctx.ticket(ticket.id)
    ctx.set_state(IDLE)
    me = ctx.person
    await tickets.add_event(ctx.tx, ticket, Event.GIVEN, ctx.now, me.id, n=asked.n, by_phone=who)
    await timers.cancel(ctx.tx, timer_key(Due.REMIND, ticket), timer_key(Due.LAPSE, ticket))
    await close_buttons(ctx, ticket, asked, lazy("consent.outcome.by_phone", who=who,
                                                 when=ctx.now))
    fields = await start_remote(ctx, ticket, asked)
    await ctx.reply("consent.phone_recorded", work_buttons(ticket), who=who, plan=asked.plan,
                    **fields)
    # the reporter, when reachable, sees what was recorded in their name's place
    await tell_reporter(ctx, ticket, "consent.phone_noted", [], name=me.name, who=who,
                        plan=asked.plan)


@router.photo(State.PHONE)
async def phone_not_a_file(ctx: Ctx, ref: FileRef | None) -> None:
    await ctx.reply("consent.phone_who_again", limit=WHO_MAX_CHARS)
