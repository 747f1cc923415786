"""Routing: which engineer to page for a ticket, and what happens when nobody takes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import buttons, lifecycle
from storage import people, tickets
from storage.models import Page, PageState, Person, Role, Ticket, TicketStatus

if TYPE_CHECKING:
    from handlers.context import Ctx


async def candidates(ctx: Ctx, ticket: Ticket) -> list[Person]:
    """On-duty engineers not yet paged for this ticket, best first.

    Best = has the skill for the category, works at the ticket's site, holds fewest open jobs.
    """
    already = {p.person_id for p in await tickets.pages(ctx.tx, ticket.id or 0)}
    pool = [
        p for p in await people.people_with_roles(ctx.tx, (Role.ENGINEER,))
        if p.on_duty and p.id not in already
    ]
    load = await people.open_job_counts(ctx.tx, [p.id for p in pool if p.id is not None])

    def rank(p: Person) -> tuple[int, int, int, int]:
        skilled = ticket.category in (p.skills or [])
        local = bool(ticket.site) and p.site == ticket.site
        return (not skilled, not local, load.get(p.id or 0, 0), p.id or 0)

    return sorted(pool, key=rank)


async def page_next(ctx: Ctx, ticket: Ticket) -> Person | None:
    """Page the best engineer not yet asked; when none is left, tell the service managers."""
    from handlers.jobs import summary_fields, tell_managers

    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    for engineer in await candidates(ctx, ticket):
        key = ctx.next_key()
        rows = [[("button.accept", buttons.ticket(ticket.id or 0, "ack")),
                 ("button.decline", buttons.ticket(ticket.id or 0, "decline"))]]
        sent = await ctx.notify(
            engineer, "engineer.page", rows, key=key, **summary_fields(ctx, ticket),
            reporter=reporter.name if reporter else "-",
            phone=(reporter.phone if reporter else "") or "-",
        )
        page = Page(ticket_id=ticket.id or 0, person_id=engineer.id or 0, message_key=key,
                    at=ctx.now)
        if sent is None:  # cannot reach them: record it and try the next one
            page.state, page.answered_at = str(PageState.DECLINED), ctx.now
            ctx.tx.add(page)
            continue
        ctx.tx.add(page)
        await lifecycle.move(ctx.tx, ticket, TicketStatus.PAGED, ctx.now, None,
                             engineer_id=engineer.id)
        return engineer
    await tickets.add_event(ctx.tx, ticket, "unassigned", ctx.now)
    await tell_managers(ctx, "manager.nobody", ticket)
    return None
