"""Routing: who is paged for a ticket, and what happens when nobody answers.

The best on-duty engineer not yet asked is paged with Accept / Decline and an ack timeout
(per priority). A timeout pages the next one *as well* (the first may still accept); a
decline pages the next one if nobody else is still being asked. When nobody is left, the
service managers are told once. Whoever accepts first gets the job (the ticket row is
locked); every other open page is edited to say who took it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import buttons, lifecycle, rota
from storage import people, tickets, timers
from storage.models import Page, PageState, Person, Role, Ticket, TicketStatus

if TYPE_CHECKING:
    from handlers.context import Ctx


async def candidates(ctx: Ctx, ticket: Ticket) -> list[Person]:
    """On-duty engineers not yet paged for this ticket, best first.

    Best = has the skill for the category, works at the ticket's site, holds fewest open jobs.
    """
    already = {p.person_id for p in await tickets.pages(ctx.tx, ticket.id or 0)}
    zone = ctx.config.zone
    pool = [
        p for p in await people.people_with_roles(ctx.tx, (Role.ENGINEER,))
        if p.on_duty and p.id not in already and rota.on_duty(p.rota, ctx.now, zone)
    ]
    load = await people.open_job_counts(ctx.tx, [p.id for p in pool if p.id is not None])

    def rank(p: Person) -> tuple[int, int, int, int]:
        skilled = ticket.category in (p.skills or [])
        local = bool(ticket.site) and p.site == ticket.site
        return (not skilled, not local, load.get(p.id or 0, 0), p.id or 0)

    return sorted(pool, key=rank)


async def page_next(ctx: Ctx, ticket: Ticket) -> Person | None:
    """Page the best engineer not yet asked; when none is left, tell the service managers."""
    for engineer in await candidates(ctx, ticket):
        if await _page(ctx, ticket, engineer):
            return engineer
    if not any(e.kind == "unassigned" for e in await tickets.events(ctx.tx, ticket.id or 0)):
        from handlers.jobs import tell_managers

        await tickets.add_event(ctx.tx, ticket, "unassigned", ctx.now)
        await tell_managers(ctx, "manager.nobody", ticket)
    return None


async def _page(ctx: Ctx, ticket: Ticket, engineer: Person) -> bool:
    from handlers.jobs import summary_fields

    key = ctx.next_key()
    tid = ticket.id or 0
    rows = [[("button.accept", buttons.ticket(tid, "ack")),
             ("button.decline", buttons.ticket(tid, "decline"))]]
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    timeout = ctx.config.sla.ack_timeout(ticket.priority)
    sent = await ctx.notify(
        engineer, "engineer.page", rows, key=key, **summary_fields(ctx, ticket),
        reporter=reporter.name if reporter else "-",
        phone=(reporter.phone if reporter else "") or "-",
        ack_minutes=timeout.total_seconds() / 60,
    )
    page = Page(ticket_id=tid, person_id=engineer.id or 0, message_key=key, at=ctx.now)
    if sent is None:  # cannot reach them: record it and try the next one
        page.state, page.answered_at = str(PageState.DECLINED), ctx.now
        ctx.tx.add(page)
        return False
    ctx.tx.add(page)
    await ctx.tx.flush()
    await timers.schedule(ctx.tx, f"ack:{tid}:{page.id}", "ack_timeout", ctx.now + timeout,
                          ticket_id=tid, payload={"page": page.id})
    if ticket.status in (TicketStatus.NEW, TicketStatus.PAGED):
        await lifecycle.move(ctx.tx, ticket, TicketStatus.PAGED, ctx.now, None,
                             engineer_id=engineer.id)
    return True


async def pending(ctx: Ctx, ticket: Ticket) -> list[Page]:
    return [p for p in await tickets.pages(ctx.tx, ticket.id or 0)
            if p.state == PageState.PENDING]


async def ack_timed_out(ctx: Ctx, ticket: Ticket, page_id: int) -> None:
    """Nobody answered this page in time: bring in the next engineer too."""
    page = await ctx.tx.get(Page, page_id)
    if page is None or page.state != PageState.PENDING:
        return
    if ticket.status not in (TicketStatus.NEW, TicketStatus.PAGED):
        return
    await tickets.add_event(ctx.tx, ticket, "ack_timeout", ctx.now, None,
                            engineer_id=page.person_id)
    await page_next(ctx, ticket)
