"""Photos, voice messages and locations sent in chat: kept with the report being written,
or the open job, and passed on to its engineer."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from handlers.core import logctx
from handlers.core.context import Ctx
from handlers.core.messages import FileRef, Kind
from handlers.core.router import Router
from handlers.flows.intake import report
from handlers.flows.jobs.summary import number, tell, voices
from storage import tickets
from storage.models import Ticket

router = Router("media")
MIB = 1024 * 1024


class Event(StrEnum):
    PHOTO = "photo"
    VOICE = "added.voice"  # its label is event.added.voice
    LOCATION = "location"


def _item(ref: FileRef) -> dict[str, Any]:
    item: dict[str, Any] = {"key": ref.key, "name": ref.name, "mime": ref.mime,
                            "size": ref.size}
    if ref.seconds:
        item["seconds"] = ref.seconds
    return item


def _texts(ctx: Ctx) -> str:
    """The reply table for what was sent: a photo's or a voice message's words."""
    return "voice" if ctx.incoming is not None and ctx.incoming.kind is Kind.VOICE else "photo"


async def _refused(ctx: Ctx, ref: FileRef | None) -> bool:
    """True (and the sender told why) when the file cannot be kept. Adapters store nothing
    over the limits; they describe it (an empty key) so the reply can say which limit."""
    if _texts(ctx) == "photo":
        if ref is None:
            await ctx.reply("photo.failed")
        return ref is None
    limits = ctx.config
    if ref is not None and ref.seconds > limits.max_voice_seconds:
        await ctx.reply("voice.too_long", minutes=round(limits.max_voice_seconds / 60, 1))
    elif ref is not None and ref.size > limits.max_voice_bytes:
        await ctx.reply("voice.too_big", mb=round(limits.max_voice_bytes / MIB, 1))
    elif ref is None or not ref.key:
        await ctx.reply("voice.failed")
    else:
        return False
    return True


@router.photo(*report.State)
async def photo_for_report(ctx: Ctx, ref: FileRef | None) -> None:
    """A photo or a voice message while a report is being written: kept with it."""
    if await _refused(ctx, ref):
        return
    assert ref is not None
    kept = report.keep_photo(ctx, _item(ref))
    what = _texts(ctx)
    await ctx.reply(f"{what}.kept_report" if kept else f"{what}.too_many")


@router.photo()
async def photo(ctx: Ctx, ref: FileRef | None) -> None:
    """Outside a report: for the newest open job, or kept for the next report."""
    if await _refused(ctx, ref):
        return
    assert ref is not None
    what = _texts(ctx)
    ticket = await _latest_open(ctx)
    if ticket is None:
        report.keep_photo(ctx, _item(ref))
        await ctx.reply(f"{what}.kept_next")
        return
    item = _item(ref)
    ticket.attachments = [*ticket.attachments, item]
    ctx.tx.add(ticket)
    actor = ctx.person.id if ctx.person else None
    event = Event.VOICE if what == "voice" else Event.PHOTO
    await tickets.add_event(ctx.tx, ticket, event, ctx.now, actor, key=ref.key)
    await ctx.reply(f"{what}.kept_ticket", number=number(ticket))
    if what == "voice":
        await tell(ctx, ticket.assignee_id, "voice.engineer_added", files=(ref,),
                   number=number(ticket), what=voices([item]))
    else:
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
