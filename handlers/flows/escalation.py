"""Support tiers: engineer → technical expert → vendor contact (原厂).

A job goes up a tier when its engineer asks for an expert, or when its resolution clock runs
out. The next tier's people and the service managers get the ticket's history; an expert takes
the job over with one button. Vendor contacts are experts with the skill "vendor".
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from handlers.core import tokens
from handlers.core.context import Ctx
from handlers.core.errors import StaleAction
from handlers.core.router import Router
from handlers.core.texts import lazy
from handlers.flows.engineer.keyboard import work_buttons
from handlers.flows.jobs import clocks, paging
from handlers.flows.jobs.clocks import SlaDue
from handlers.flows.jobs.status import STATUS_EVENT
from handlers.flows.jobs.summary import number, summary_fields, tell, tell_managers
from handlers.rules.lifecycle import OPEN
from storage import people, tickets
from storage.models import Person, Progress, Role, Ticket, TicketEvent, Timer

router = Router("escalation")
MAX_TIER = 3
VENDOR_SKILL = "vendor"
HISTORY_LINES = 15


class Action(StrEnum):
    TAKE = "take"


class Event(StrEnum):
    ESCALATED = "escalated"
    TAKEN = "taken"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"


async def tier_people(ctx: Ctx, tier: int) -> list[Person]:
    experts = await people.people_with_roles(ctx.tx, (Role.EXPERT,))
    vendor = [p for p in experts if VENDOR_SKILL in (p.skills or [])]
    return vendor if tier >= MAX_TIER else [p for p in experts if p not in vendor]


async def escalate(ctx: Ctx, ticket: Ticket, reason: str, actor_id: int | None = None) -> bool:
    """Move the job one tier up and tell that tier and the managers; False at the top."""
    if ticket.tier >= MAX_TIER:
        return False
    ticket.tier += 1
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, Event.ESCALATED, ctx.now, actor_id, tier=ticket.tier,
                            reason=reason)
    history = await history_text(ctx, ticket)
    fields = {**summary_fields(ctx, ticket), "tier": lazy(f"tier.{ticket.tier}"),
              "reason": lazy(f"escalation.{reason}"), "history": history}
    take = [[("button.take", tokens.ticket(ticket.id, Action.TAKE))]]
    reached = 0
    for person in await tier_people(ctx, ticket.tier):
        reached += await ctx.notify(person, "expert.escalated", take, **fields) is not None
    await tell_managers(ctx, "manager.escalated" if reached else "manager.escalated_nobody",
                        ticket, **fields)
    await tell(ctx, ticket.reporter_id, "reporter.escalated", **fields)
    return True


@router.ticket_button(Action.TAKE, roles=(Role.EXPERT,))
async def take_over(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    """An expert (or vendor contact) takes the escalated job."""
    me = ctx.person
    assert me is not None
    if ticket.tier < 2 or ticket.status not in OPEN or ticket.assignee_id == me.id:
        raise StaleAction(number=number(ticket))
    previous = await ctx.tx.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    ticket.assignee_id = me.id
    if ticket.responded_at is None:
        ticket.responded_at = ctx.now
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, Event.TAKEN, ctx.now, me.id, tier=ticket.tier)
    fields = {**summary_fields(ctx, ticket), "name": me.name, "phone": me.phone or "-"}
    await ctx.reply("expert.took", work_buttons(ticket), **fields)
    if previous is not None:
        await ctx.notify(previous, "engineer.taken_over", **fields)
    await paging.hand_over_attachments(ctx, ticket, me)
    await tell(ctx, ticket.reporter_id, "reporter.taken_over", **fields)


async def history_text(ctx: Ctx, ticket: Ticket) -> Callable[[str], str]:
    """The job so far, a line per event, rendered in each recipient's language."""
    events: list[TicketEvent] = await tickets.events(ctx.tx, ticket.id or 0)
    names = {p.id: p.name for p in await people.people(ctx.tx)}

    def render(lang: str) -> str:
        lines = []
        for e in events[-HISTORY_LINES:]:
            what = ctx.t(f"event.{e.kind}", lang)
            if e.kind == STATUS_EVENT:
                what += " → " + ctx.t(f"status.{e.details.get('to', 'new')}", lang)
            who = names.get(e.actor_id, ctx.t("event.bot", lang))
            lines.append(f"{ctx.texts.time(lang, e.at)} {who} {what}")
        return "\n".join(lines)

    return render


@router.ticket_timer(SlaDue.RESPONSE_WARN, only_open=True)
async def response_warning(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    if ticket.responded_at is None:
        await tickets.add_event(ctx.tx, ticket, Event.SLA_WARNING, ctx.now, clock="response")
        await tell_managers(ctx, "manager.response_warning", ticket)


@router.ticket_timer(SlaDue.RESPONSE_DUE, only_open=True)
async def response_breached(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    if ticket.responded_at is None:
        await tickets.add_event(ctx.tx, ticket, Event.SLA_BREACHED, ctx.now, clock="response")
        await tell_managers(ctx, "manager.response_breached", ticket)


@router.ticket_timer(SlaDue.ONSITE_DUE, only_open=True)
async def onsite_breached(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    if ticket.progress != Progress.ON_SITE:
        await tickets.add_event(ctx.tx, ticket, Event.SLA_BREACHED, ctx.now, clock="onsite")
        await tell_managers(ctx, "manager.onsite_breached", ticket)


@router.ticket_timer(SlaDue.RESOLVE_WARN, only_open=True)
async def resolve_warning(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    """75 % of the resolution time used: the assignee is reminded; a job nobody holds yet is
    the managers' to hand out."""
    if ticket.resolved_at is not None or ticket.paused_at is not None:
        return
    await tickets.add_event(ctx.tx, ticket, Event.SLA_WARNING, ctx.now, clock="resolve")
    if ticket.assignee_id is None:
        await tell_managers(ctx, "manager.resolve_warning_unassigned", ticket)
        return
    await tell(ctx, ticket.assignee_id, "engineer.resolve_warning", **summary_fields(ctx, ticket))


@router.ticket_timer(SlaDue.RESOLVE_DUE, only_open=True)
async def resolve_breached(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    """Breach: recorded and the managers told once; the job goes up a support tier, and if a
    tier is left, it goes up again when the next tier has had a whole resolution window."""
    if ticket.resolved_at is not None or ticket.paused_at is not None:
        return
    if not await _breached_before(ctx, ticket):
        await tickets.add_event(ctx.tx, ticket, Event.SLA_BREACHED, ctx.now, clock="resolve")
        await tell_managers(ctx, "manager.resolve_breached", ticket)
        await tell(ctx, ticket.assignee_id, "engineer.resolve_breached",
                   **summary_fields(ctx, ticket))
    await escalate(ctx, ticket, "resolve_breached")
    if ticket.tier < MAX_TIER:
        await clocks.recheck_resolution(ctx, ticket)


async def _breached_before(ctx: Ctx, ticket: Ticket) -> bool:
    return any(e.kind == Event.SLA_BREACHED and e.details.get("clock") == "resolve"
               for e in await tickets.events(ctx.tx, ticket.id or 0))
