"""Commands: /start /help /status /cancel /lang — each a short, plain answer."""

from __future__ import annotations

from typing import Any

from handlers import board, complaints, drafts, engineer, logctx, registration, reporter
from handlers.context import Ctx
from handlers.errors import DeskError, NotAllowed
from handlers.faults import CATEGORIES
from handlers.jobs import summary_fields
from handlers.reporting.chat import report_command
from handlers.sla import PRIORITIES
from handlers.states import (
    COMPLAINT_STATES,
    ENGINEER_STATES,
    INTAKE_STATES,
    REGISTRATION_STATES,
    State,
)
from handlers.texts import LANGUAGES, lazy
from storage import tickets
from storage.models import Role, Ticket

STATUS_WORDS = frozenset({"我的工单", "工单状态", "my tickets"})


def parse(text: str) -> tuple[str, str]:
    """'/Lang@bot en' → ('lang', 'en')."""
    head, _, rest = text.strip().partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    return name, rest.strip()


async def run(ctx: Ctx, text: str) -> None:
    name, arg = parse(text)
    handler = {
        "start": start, "help": help_, "status": status, "cancel": cancel, "open": open_board,
        "urge": urge, "complain": complain, "drafts": list_drafts, "report": report_command,
    }.get(name)
    with_arg = {"lang": lang, "priority": priority, "category": category, "duty": duty}
    if name in with_arg:
        await with_arg[name](ctx, arg)
    elif handler is not None:
        await handler(ctx)
    else:
        await ctx.reply("command.unknown", command=text.strip()[:40])


async def start(ctx: Ctx) -> None:
    if ctx.person is None:
        await registration.begin(ctx)
        return
    await ctx.reply("command.start", name=ctx.person.name)


async def help_(ctx: Ctx) -> None:
    await ctx.reply("command.help")


async def cancel(ctx: Ctx) -> None:
    state = ctx.state if ctx.conv is not None else State.IDLE
    if state in INTAKE_STATES:
        key = "command.cancel_report"
    elif state in ENGINEER_STATES:
        key = "command.cancel_resolving"
    elif state in REGISTRATION_STATES:
        key = "command.cancel_registration"
    elif state in COMPLAINT_STATES:
        key = "command.cancel_complaint"
    else:
        await ctx.reply("command.nothing_to_cancel")
        return
    ctx.set_state(State.IDLE)
    await ctx.reply(key)


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


async def status(ctx: Ctx) -> None:
    if ctx.person is None:
        await registration.begin(ctx)
        return
    me = ctx.person
    if me.role == Role.REPORTER:
        mine = await tickets.open_tickets(ctx.tx, reporter_id=me.id)
    elif me.role in (Role.MANAGER, Role.ADMIN):
        mine = await tickets.open_tickets(ctx.tx)
    else:
        mine = await tickets.open_tickets(ctx.tx, assignee_id=me.id)
    if not mine:
        await ctx.reply("status.none")
        return
    lines = [ctx.t("status.header", count=len(mine))]
    lines += [ctx.t("status.line", None, **_line_fields(ctx, t)) for t in mine[:20]]
    if len(mine) > 20:
        lines.append(ctx.t("status.more", count=len(mine) - 20))
    await ctx.reply_text("\n".join(lines))


def _line_fields(ctx: Ctx, ticket: Ticket) -> dict[str, Any]:
    fields = summary_fields(ctx, ticket)
    fields["description"] = ticket.description[:30]
    return fields


async def open_board(ctx: Ctx) -> None:
    if not _is_staff(ctx):
        raise NotAllowed()
    await board.show(ctx)


async def urge(ctx: Ctx) -> None:
    await reporter.urge_latest(ctx)


async def priority(ctx: Ctx, arg: str) -> None:
    """/priority FL-000123 P2 — the assignee or a manager re-grades a job."""
    ticket, value = await _ticket_and_value(ctx, arg, "command.priority_usage")
    if value.upper() not in PRIORITIES:
        await ctx.reply("command.priority_usage")
        return
    await engineer.change_priority(ctx, ticket, value.upper())


async def category(ctx: Ctx, arg: str) -> None:
    """/category FL-000123 valve"""
    ticket, value = await _ticket_and_value(ctx, arg, "command.category_usage")
    if value.lower() not in CATEGORIES:
        await ctx.reply("command.category_usage")
        return
    await engineer.change_category(ctx, ticket, value.lower())


async def duty(ctx: Ctx, arg: str) -> None:
    """/duty on|off — an engineer says whether new pages may reach them."""
    if not _is_staff(ctx) or ctx.person is None:
        raise NotAllowed()
    choice = arg.strip().lower()
    if choice not in ("on", "off"):
        await ctx.reply("command.duty_usage", state=lazy(f"command.duty_{ctx.person.on_duty}"))
        return
    ctx.person.on_duty = choice == "on"
    ctx.tx.add(ctx.person)
    await ctx.reply("command.duty_set", state=lazy(f"command.duty_{ctx.person.on_duty}"))


async def _ticket_and_value(ctx: Ctx, arg: str, usage: str) -> tuple[Ticket, str]:
    number, _, value = arg.partition(" ")
    ticket_id = tickets.parse_number(number)
    ticket = await tickets.get(ctx.tx, ticket_id, lock=True) if ticket_id else None
    if ticket is None or not value.strip():
        raise DeskError(usage)
    logctx.ticket(ticket.id)
    return ticket, value.strip()


def _is_staff(ctx: Ctx) -> bool:
    return ctx.person is not None and ctx.person.role != Role.REPORTER


async def complain(ctx: Ctx) -> None:
    if ctx.person is None:
        await registration.begin(ctx)
        return
    await complaints.start(ctx)


async def list_drafts(ctx: Ctx) -> None:
    await drafts.list_pending(ctx)
