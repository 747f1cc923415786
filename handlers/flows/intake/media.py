"""Photos and locations sent in chat: kept with the report being written, or the open job."""

from __future__ import annotations

from typing import Any

from handlers import intake, logctx
from handlers.context import Ctx
from handlers.messages import FileRef
from handlers.states import INTAKE_STATES
from storage import tickets
from storage.models import Person, Ticket


async def photo(ctx: Ctx, ref: FileRef | None) -> None:
    if ref is None:
        await ctx.reply("photo.failed")
        return
    item = {"key": ref.key, "name": ref.name, "mime": ref.mime, "size": ref.size}
    if ctx.state in INTAKE_STATES:
        kept = await intake.keep_photo(ctx, item)
        await ctx.reply("photo.kept_report" if kept else "photo.too_many")
        return
    ticket = await _latest_open(ctx)
    if ticket is None:
        await intake.keep_photo(ctx, item)
        await ctx.reply("photo.kept_next")
        return
    ticket.attachments = [*ticket.attachments, item]
    ctx.tx.add(ticket)
    number = tickets.number(ticket.id or 0)
    actor = ctx.person.id if ctx.person else None
    await tickets.add_event(ctx.tx, ticket, "photo", ctx.now, actor, key=ref.key)
    await ctx.reply("photo.kept_ticket", number=number)
    await _tell_assignee(ctx, ticket, "engineer.photo_added", files=(ref,), number=number)


async def location(ctx: Ctx, where: tuple[float, float]) -> None:
    point = [float(where[0]), float(where[1])]
    if ctx.state in INTAKE_STATES:
        ctx.update_data(location=point)
        await ctx.reply("location.kept_report")
        return
    ticket = await _latest_open(ctx)
    if ticket is None:
        ctx.update_data(location=point)
        await ctx.reply("location.kept_next")
        return
    ticket.location = point
    ctx.tx.add(ticket)
    number = tickets.number(ticket.id or 0)
    await tickets.add_event(ctx.tx, ticket, "location", ctx.now,
                            ctx.person.id if ctx.person else None, lat=point[0], lon=point[1])
    await ctx.reply("location.kept_ticket", number=number)
    await _tell_assignee(ctx, ticket, "engineer.location_added", number=number,
                         lat=point[0], lon=point[1])


async def _latest_open(ctx: Ctx) -> Ticket | None:
    if ctx.person is None:
        return None
    mine = await tickets.open_tickets(ctx.tx, reporter_id=ctx.person.id)
    if not mine:
        return None
    logctx.ticket(mine[-1].id)
    return await tickets.get(ctx.tx, mine[-1].id or 0, lock=True)


async def _tell_assignee(ctx: Ctx, ticket: Ticket, key: str, **fields: Any) -> None:
    if ticket.assignee_id is None:
        return
    engineer = await ctx.tx.get(Person, ticket.assignee_id)
    if engineer is not None:
        await ctx.notify(engineer, key, **fields)
