"""Opening a ticket from a finished report, and the words that describe a ticket."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from handlers import buttons, clocks, logctx, paging
from handlers.context import Ctx
from handlers.texts import lazy
from storage import people, tickets
from storage.models import Person, Role, Ticket

log = logging.getLogger(__name__)


@dataclass
class Draft:
    """A report as the reporter wrote it, before it is a ticket."""

    description: str
    impact: str
    priority: str
    category: str = "general"
    kb_shown: list[str] = field(default_factory=list)
    photos: list[dict[str, Any]] = field(default_factory=list)
    location: list[float] | None = None


async def open_ticket(ctx: Ctx, reporter: Person, draft: Draft) -> Ticket:
    """Register the job (status new), start its clocks, tell the reporter, page an engineer."""
    now = ctx.now
    ticket = Ticket(
        reporter_id=reporter.id or 0, site=reporter.site, category=draft.category,
        priority=draft.priority, impact=draft.impact, description=draft.description,
        attachments=draft.photos, location=draft.location, kb_shown=draft.kb_shown,
        channel=ctx.incoming.channel if ctx.incoming else "", created_at=now, updated_at=now,
        response_due=now, resolve_due=now,  # set by the clocks just below
    )
    ctx.tx.add(ticket)
    await ctx.tx.flush()
    logctx.ticket(ticket.id)
    log.info("ticket opened: %s, %s, impact %s", ticket.priority, ticket.category, ticket.impact)
    await tickets.add_event(
        ctx.tx, ticket, "created", now, reporter.id, priority=ticket.priority,
        impact=ticket.impact, category=ticket.category, kb_shown=ticket.kb_shown,
    )
    await clocks.start_all(ctx, ticket)
    urge = [[("button.urge", buttons.ticket(ticket.id or 0, "urge"))]]
    await ctx.reply("ticket.opened", urge, **summary_fields(ctx, ticket))
    if ticket.priority == "P1":
        await tell_managers(ctx, "manager.p1_opened", ticket)
    await paging.page_next(ctx, ticket)
    return ticket


def summary_fields(ctx: Ctx, ticket: Ticket) -> dict[str, Any]:
    window = ctx.config.sla.window(ticket.priority)
    return {
        "number": tickets.number(ticket.id or 0),
        "priority": lazy(f"priority.{ticket.priority}"),
        "response_hours": window.response_hours,
        "resolve_hours": window.resolve_hours,
        "response_due": ticket.response_due,
        "resolve_due": ticket.resolve_due,
        "onsite_due": ticket.onsite_due or "-",
        "status": lazy(f"status.{ticket.status}"),
        "description": ticket.description,
        "site": ticket.site or "-",
        "category": lazy(f"category.{ticket.category}"),
    }


async def tell_managers(ctx: Ctx, text_key: str, ticket: Ticket, **fields: Any) -> None:
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    merged = {**summary_fields(ctx, ticket), "reporter": reporter.name if reporter else "-",
              **fields}
    for manager in await people.people_with_roles(ctx.tx, (Role.MANAGER,)):
        await ctx.notify(manager, text_key, **merged)
