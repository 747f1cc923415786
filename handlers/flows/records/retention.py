"""Records (服务档案): diagnosis attachments are deleted a while after the job closes (default
30 days); the record itself is kept for the retention period (default 5 years), then removed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum

from handlers.core.context import Ctx
from handlers.core.router import Router
from storage import tickets, timers
from storage.models import Ticket, Timer

log = logging.getLogger(__name__)
router = Router("retention")


class Due(StrEnum):
    PURGE_ATTACHMENTS = "purge_attachments"
    PURGE_RECORD = "purge_record"


class Event(StrEnum):
    ATTACHMENTS_PURGED = "attachments_purged"


def years_later(when: datetime, years: int) -> datetime:
    """The same moment `years` calendar years on (29 February becomes 28 February)."""
    try:
        return when.replace(year=when.year + years)
    except ValueError:
        return when.replace(year=when.year + years, day=28)


async def keep_record(ctx: Ctx, ticket: Ticket) -> None:
    """The record is kept for the retention period from now: at opening (a job that never
    closes is still removed in time) and again at closing."""
    await timers.schedule(ctx.tx, f"{Due.PURGE_RECORD}:{ticket.id}", Due.PURGE_RECORD,
                          years_later(ctx.now, ctx.config.record_retention_years),
                          ticket_id=ticket.id)


async def schedule(ctx: Ctx, ticket: Ticket) -> None:
    """At closing: diagnosis attachments go after their period, the record after its own."""
    if ticket.attachments:
        await timers.schedule(ctx.tx, f"{Due.PURGE_ATTACHMENTS}:{ticket.id}",
                              Due.PURGE_ATTACHMENTS,
                              ctx.now + timedelta(days=ctx.config.attachment_retention_days),
                              ticket_id=ticket.id)
    await keep_record(ctx, ticket)


@router.ticket_timer(Due.PURGE_ATTACHMENTS)
async def purge_attachments(ctx: Ctx, ticket: Ticket, timer: Timer | None = None) -> None:
    """Delete the files; keep the record (and say in it what was deleted)."""
    keys = [a.get("key", "") for a in ticket.attachments]
    for key in keys:
        if ctx.files is not None and key:
            try:
                await ctx.files.delete(key)
            except (OSError, ValueError):
                log.warning("could not delete attachment of ticket %s", ticket.id)
    ticket.attachments = []
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, Event.ATTACHMENTS_PURGED, ctx.now, count=len(keys))


@router.ticket_timer(Due.PURGE_RECORD)
async def purge_record(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    await purge_attachments(ctx, ticket)
    await tickets.delete_record(ctx.tx, ticket.id or 0)
    log.info("record of ticket %s removed after the retention period", ticket.id)
