"""Everyone's commands: /help, /lang, /status (我的工单). (/start belongs to registration,
/cancel to the core: it ends whatever dialogue a person is in.) /help and /lang also answer in
group chats; every other command is personal and answers only in private."""

from __future__ import annotations

from typing import Any

from handlers.core.context import Ctx
from handlers.core.router import Router
from handlers.core.texts import LANGUAGES
from handlers.flows.jobs.summary import MANAGERS, summary_fields
from storage import tickets
from storage.models import Role, Ticket

router = Router("common")
MAX_LISTED = 20


HELP = {Role.ENGINEER: "command.help_engineer", Role.EXPERT: "command.help_engineer",
        Role.MANAGER: "command.help_manager", Role.ADMIN: "command.help_manager"}


@router.command("help", private=False)
async def help_(ctx: Ctx, arg: str) -> None:
    """What this person can do here: reporters, engineers and managers each see their own."""
    role = ctx.person.role if ctx.person is not None else Role.REPORTER
    await ctx.reply(HELP.get(Role(role), "command.help"))


@router.command("lang", private=False)
async def lang(ctx: Ctx, arg: str) -> None:
    choice = arg.lower()[:2]
    if choice not in LANGUAGES:
        await ctx.reply("command.lang_usage")
        return
    if ctx.person is not None:
        ctx.person.language = choice
        ctx.tx.add(ctx.person)
    if ctx.conv is not None:
        ctx.conv.language = choice
        ctx.tx.add(ctx.conv)
    await ctx.reply("command.lang_set")


@router.command("status", registered=True)
@router.on_words("我的工单", "工单状态", "my tickets")
async def status(ctx: Ctx, arg: str) -> None:
    me = ctx.person
    assert me is not None
    if me.role == Role.REPORTER:
        mine = await tickets.open_tickets(ctx.tx, reporter_id=me.id)
    elif me.role in MANAGERS:
        mine = await tickets.open_tickets(ctx.tx)
    else:
        mine = await tickets.open_tickets(ctx.tx, assignee_id=me.id)
    if not mine:
        await ctx.reply("status.none")
        return
    lines = [ctx.t("status.header", count=len(mine))]
    lines += [ctx.t("status.line", None, **_line_fields(ctx, t)) for t in mine[:MAX_LISTED]]
    if len(mine) > MAX_LISTED:
        lines.append(ctx.t("status.more", count=len(mine) - MAX_LISTED))
    await ctx.reply_text("\n".join(lines))


def _line_fields(ctx: Ctx, ticket: Ticket) -> dict[str, Any]:
    fields = summary_fields(ctx, ticket)
    fields["description"] = ticket.description[:30]
    return fields
