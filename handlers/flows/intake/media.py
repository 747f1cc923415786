"""Photos and locations sent in chat: kept with the report being written, or the open job."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from handlers.core import logctx
from handlers.core.context import Ctx
from handlers.core.messages import FileRef
from handlers.core.router import Router
from handlers.flows.intake import report
from handlers.flows.jobs.summary import number, tell
from storage import tickets
from storage.models import Ticket

router = Router("media")


class Event(StrEnum):
    PHOTO = "photo"
    LOCATION = "location"


def _item(ref: FileRef) -> dict[str, Any]:
    return {"key": ref.key, "name": ref.name, "mime": ref.mime, "size": ref.size}


@router.photo(*report.State)
async def photo_for_report(ctx: Ctx, ref: FileRef | None) -> None:
    if ref is None:
        await ctx.reply("photo.failed")
        return
    kept = report.keep_photo(ctx, _item(ref))
    await ctx.reply("photo.kept_report" if kept else "photo.too_many")


@router.photo()
async def photo(ctx: Ctx, ref: FileRef | None) -> None:
    """Outside a report: for the newest open job, or kept for the next report."""
    if ref is None:
        await ctx.reply("photo.failed")
        return
    ticket = await _latest_open(ctx)
    if ticket is None:
        report.keep_photo(ctx, _item(ref))
        await ctx.reply("photo.kept_next")
        return
    ticket.attachments = [*ticket.attachments, _item(ref)]
    ctx.tx.add(ticket)
    actor = ctx.person.id if ctx.person else None
    await tickets.add_event(ctx.tx, ticket, Event.PHOTO, ctx.now, actor, key=ref.key)
    await ctx.reply("photo.kept_ticket", number=number(ticket))
    await tell(ctx, ticket.assignee_id, "engineer.photo_added", files=(ref,),
               number=number(ticket))


@router.location(*report.State)
async def location_for_report(ctx: Ctx, where: tuple[float, float]) -> None:
    report.keep_location(ctx, [float(where[0]), float(where[1])])
    await ctx.reply("location.kept_report")


@router.location()
async def location(ctx: Ctx, where: tuple[float, float]) -> None:
    point = [float(where[0]), float(where[1])]
    ticket = await _latest_open(ctx)
    if ticket is None:
        report.keep_location(ctx, point)
        await ctx.reply("location.kept_next")
        return
    ticket.location = point
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, Event.LOCATION, ctx.now,
                            ctx.person.id if ctx.person else None, lat=point[0], lon=point[1])
    await ctx.reply("location.kept_ticket", number=number(ticket))
    await tell(ctx, ticket.assignee_id, "engineer.location_added", number=number(ticket),
               lat=point[0], lon=point[1])


async def _latest_open(ctx: Ctx) -> Ticket | None:
    if ctx.person is None:
        return None
    mine = await tickets.open_tickets(ctx.tx, reporter_id=ctx.person.id)
    if not mine:
        return None
    logctx.ticket(mine[-1].id)
    return await tickets.get(ctx.tx, mine[-1].id or 0, lock=True)
