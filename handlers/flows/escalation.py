"""Support tiers: engineer → technical expert → vendor contact (原厂).

A job goes up a tier when its engineer asks for an expert, or when its resolution clock runs
out. The next tier's people and the service managers get the ticket's history; an expert takes
the job over with one button. Vendor contacts are experts with the skill "vendor".
"""

from __future__ import annotations

from collections.abc import Callable

from handlers import buttons
from handlers.context import Ctx
from handlers.jobs import summary_fields
from handlers.texts import lazy
from storage import people, tickets
from storage.models import Person, Role, Ticket, TicketEvent

MAX_TIER = 3
VENDOR_SKILL = "vendor"
HISTORY_LINES = 15


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
    await tickets.add_event(ctx.tx, ticket, "escalated", ctx.now, actor_id, tier=ticket.tier,
                            reason=reason)
    history = await history_text(ctx, ticket)
    fields = {**summary_fields(ctx, ticket), "tier": lazy(f"tier.{ticket.tier}"),
              "reason": lazy(f"escalation.{reason}"), "history": history}
    take = [[("button.take", buttons.ticket(ticket.id or 0, "take"))]]
    reached = 0
    for person in await tier_people(ctx, ticket.tier):
        reached += await ctx.notify(person, "expert.escalated", take, **fields) is not None
    from handlers.jobs import tell_managers

    await tell_managers(ctx, "manager.escalated" if reached else "manager.escalated_nobody",
                        ticket, **fields)
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter is not None:
        await ctx.notify(reporter, "reporter.escalated", **fields)
    return True


async def take_over(ctx: Ctx, ticket: Ticket) -> None:
    """An expert (or vendor contact) takes the escalated job."""
    from handlers.engineer import work_buttons
    from handlers.errors import NotAllowed, StaleAction
    from handlers.lifecycle import OPEN

    me = ctx.person
    if me is None or me.role != Role.EXPERT:
        raise NotAllowed()
    if ticket.tier < 2 or ticket.status not in OPEN or ticket.assignee_id == me.id:
        raise StaleAction(number=tickets.number(ticket.id or 0))
    previous = await ctx.tx.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    ticket.assignee_id = me.id
    if ticket.responded_at is None:
        ticket.responded_at = ctx.now
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, "taken", ctx.now, me.id, tier=ticket.tier)
    fields = {**summary_fields(ctx, ticket), "name": me.name, "phone": me.phone or "-"}
    await ctx.reply("expert.took", work_buttons(ticket.id or 0), **fields)
    if previous is not None:
        await ctx.notify(previous, "engineer.taken_over", **fields)
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter is not None:
        await ctx.notify(reporter, "reporter.taken_over", **fields)


async def history_text(ctx: Ctx, ticket: Ticket) -> Callable[[str], str]:
    """The job so far, a line per event, rendered in each recipient's language."""
    events: list[TicketEvent] = await tickets.events(ctx.tx, ticket.id or 0)
    names = {p.id: p.name for p in await people.people(ctx.tx)}

    def render(lang: str) -> str:
        lines = []
        for e in events[-HISTORY_LINES:]:
            what = ctx.t(f"event.{e.kind}", lang)
            if e.kind == "status":
                what += " → " + ctx.t(f"status.{e.details.get('to', 'new')}", lang)
            who = names.get(e.actor_id, ctx.t("event.bot", lang))
            lines.append(f"{ctx.texts.time(lang, e.at)} {who} {what}")
        return "\n".join(lines)

    return render
