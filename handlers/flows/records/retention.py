"""Records (服务档案): diagnosis attachments are deleted a while after the job closes (default
30 days); the record itself is kept for the retention period (default 5 years), then removed.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Protocol

from handlers.context import Ctx
from storage import tickets, timers
from storage.models import Ticket

log = logging.getLogger(__name__)


class FileKeeper(Protocol):
    """The part of a file store the desk needs (bot/files.py is the real one)."""

    async def save(self, data: bytes, name: str, mime: str) -> Any: ...

    async def delete(self, key: str) -> bool: ...


async def schedule(ctx: Ctx, ticket: Ticket) -> None:
    tid, cfg = ticket.id or 0, ctx.config
    if ticket.attachments:
        await timers.schedule(ctx.tx, f"purge_attachments:{tid}", "purge_attachments",
                              ctx.now + timedelta(days=cfg.attachment_retention_days),
                              ticket_id=tid)
    await timers.schedule(ctx.tx, f"purge_record:{tid}", "purge_record",
                          ctx.now + timedelta(days=cfg.record_retention_days), ticket_id=tid)


async def purge_attachments(ctx: Ctx, ticket: Ticket) -> None:
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
    await tickets.add_event(ctx.tx, ticket, "attachments_purged", ctx.now, count=len(keys))


async def purge_record(ctx: Ctx, ticket: Ticket) -> None:
    await purge_attachments(ctx, ticket)
    await tickets.delete_record(ctx.tx, ticket.id or 0)
    log.info("record of ticket %s removed after the retention period", ticket.id)
