"""The open-jobs board for managers: `/open` on demand and the daily SLA digest."""

from __future__ import annotations

from datetime import datetime

from handlers.context import Ctx
from handlers.jobs import summary_fields
from storage import people, tickets
from storage.models import Person, Role, Ticket

MAX_LINES = 30


def next_deadline(ticket: Ticket) -> datetime:
    """The deadline that matters now: response until someone took it, then resolution."""
    return ticket.response_due if ticket.responded_at is None else ticket.resolve_due


def render(ctx: Ctx, lang: str, open_tickets: list[Ticket], names: dict[int, str]) -> str:
    if not open_tickets:
        return ctx.t("board.empty", lang)
    ordered = sorted(open_tickets, key=next_deadline)
    breached = sum(1 for t in ordered if next_deadline(t) <= ctx.now)
    lines = [ctx.t("board.header", lang, count=len(ordered), breached=breached)]
    for t in ordered[:MAX_LINES]:
        mark = ctx.t("board.breached" if next_deadline(t) <= ctx.now else "board.ok", lang)
        which = "board.respond_by" if t.responded_at is None else "board.resolve_by"
        lines.append(ctx.t("board.line", lang, mark=mark, **summary_fields(ctx, t),
                           who=names.get(t.assignee_id or 0, "-"),
                           deadline=ctx.t(which, lang, when=next_deadline(t))))
    if len(ordered) > MAX_LINES:
        lines.append(ctx.t("status.more", lang, count=len(ordered) - MAX_LINES))
    return "\n".join(lines)


async def snapshot(ctx: Ctx) -> tuple[list[Ticket], dict[int, str]]:
    open_tickets = await tickets.open_tickets(ctx.tx)
    names = {p.id or 0: p.name for p in await people.people(ctx.tx)}
    return open_tickets, names


async def show(ctx: Ctx) -> None:
    open_tickets, names = await snapshot(ctx)
    await ctx.reply_text(render(ctx, ctx.lang, open_tickets, names))


async def daily_digest(ctx: Ctx) -> None:
    """The board, pushed to every service manager (keys make it once per day per manager)."""
    open_tickets, names = await snapshot(ctx)
    for manager in await people.people_with_roles(ctx.tx, (Role.MANAGER,)):
        await _send(ctx, manager, render(ctx, ctx.texts.lang(manager.language),
                                         open_tickets, names))


async def _send(ctx: Ctx, person: Person, text: str) -> None:
    ident = await ctx.reachable_identity(person)
    if ident is not None:
        lang = ctx.texts.lang(person.language)
        await ctx.send_text(ident.channel, ident.chat_id, lang,
                            ctx.t("board.digest_title", lang) + "\n" + text)
