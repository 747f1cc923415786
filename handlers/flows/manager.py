"""Manager and staff commands: the open-jobs board (`/open`, the daily SLA digest),
`/priority` and `/category` by ticket number, `/duty`, and the notice when a person holding
jobs can no longer be reached."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import col

from handlers.core import logctx
from handlers.core.context import Ctx
from handlers.core.errors import DeskError
from handlers.core.router import Router
from handlers.core.texts import lazy
from handlers.flows.engineer import work
from handlers.flows.jobs import sites
from handlers.flows.jobs.summary import STAFF, summary_fields, tell_managers
from handlers.rules.faults import CATEGORIES
from handlers.rules.lifecycle import OPEN
from handlers.rules.sla import PRIORITIES
from storage import people, tickets
from storage.models import ChatIdentity, Person, Role, Ticket

router = Router("manager")
MAX_LINES = 30
ASSIGNEE_UNREACHABLE = "assignee_unreachable"  # the ticket event written then


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


@router.command("open", roles=STAFF)
async def show(ctx: Ctx, arg: str = "") -> None:
    """/open — a manager's own sites (everything for the rest); `/open 二号园区`, `/open all`."""
    chosen = await sites.chosen(ctx, arg)
    open_tickets, names = await snapshot(ctx)
    shown = sites.only(open_tickets, chosen) if arg.strip() \
        else await sites.visible(ctx.tx, ctx.person, open_tickets)
    await ctx.reply_text(sites.heading(ctx, ctx.lang, chosen)
                         + render(ctx, ctx.lang, shown, names))


async def daily_digest(ctx: Ctx) -> None:
    """The board of each service manager's sites, pushed to them (keys make it once per day
    per manager)."""
    open_tickets, names = await snapshot(ctx)
    for manager in await people.people_with_roles(ctx.tx, (Role.MANAGER,)):
        lang = ctx.texts.lang(manager.language)
        theirs = await sites.visible(ctx.tx, manager, open_tickets)
        await _send(ctx, manager, sites.heading(ctx, lang, sites.scope_of(manager))
                    + render(ctx, lang, theirs, names))


async def _send(ctx: Ctx, person: Person, text: str) -> None:
    ident = await ctx.reachable_identity(person)
    if ident is not None:
        lang = ctx.texts.lang(person.language)
        await ctx.send_text(ident.channel, ident.chat_id, lang,
                            ctx.t("board.digest_title", lang) + "\n" + text)


@router.command("priority", roles=STAFF)
async def priority(ctx: Ctx, arg: str) -> None:
    """/priority FL-000123 P2 — the assignee or a manager re-grades a job."""
    ticket, value = await _ticket_and_value(ctx, arg, "command.priority_usage")
    if value.upper() not in PRIORITIES:
        await ctx.reply("command.priority_usage")
        return
    await work.change_priority(ctx, ticket, value.upper())


@router.command("category", roles=STAFF)
async def category(ctx: Ctx, arg: str) -> None:
    """/category FL-000123 valve"""
    ticket, value = await _ticket_and_value(ctx, arg, "command.category_usage")
    if value.lower() not in CATEGORIES:
        await ctx.reply("command.category_usage")
        return
    await work.change_category(ctx, ticket, value.lower())


async def _ticket_and_value(ctx: Ctx, arg: str, usage: str) -> tuple[Ticket, str]:
    number, _, value = arg.partition(" ")
    ticket_id = tickets.parse_number(number)
    ticket = await tickets.get(ctx.tx, ticket_id, lock=True) if ticket_id else None
    if ticket is None or not value.strip():
        raise DeskError(usage)
    logctx.ticket(ticket.id)
    if ticket.status not in OPEN:  # a command, not a button: say why, not "expired"
        raise DeskError("command.not_open", number=tickets.number(ticket.id or 0),
                        status=lazy(f"status.{ticket.status}"))
    return ticket, value.strip()


@router.command("duty", roles=STAFF)
async def duty(ctx: Ctx, arg: str) -> None:
    """/duty on|off — an engineer says whether new pages may reach them."""
    me = ctx.person
    assert me is not None
    choice = arg.strip().lower()
    if choice not in ("on", "off"):
        await ctx.reply("command.duty_usage", state=lazy(f"command.duty_{me.on_duty}"))
        return
    me.on_duty = choice == "on"
    ctx.tx.add(me)
    await ctx.reply("command.duty_set", state=lazy(f"command.duty_{me.on_duty}"))


@router.entry("unreachable")
async def lost(ctx: Ctx, channel: str, chat_id: str) -> None:
    """A platform said this chat blocked us: the jobs go on; if the person held jobs, the
    service managers are told so they can reassign them."""
    stmt = select(Person).join(ChatIdentity, col(ChatIdentity.person_id) == col(Person.id)) \
        .where(col(ChatIdentity.channel) == channel, col(ChatIdentity.chat_id) == chat_id)
    for person in await ctx.tx.scalars(stmt):
        for ticket in await tickets.open_tickets(ctx.tx, assignee_id=person.id):
            await tickets.add_event(ctx.tx, ticket, ASSIGNEE_UNREACHABLE, ctx.now, person.id,
                                    channel=channel)
            await tell_managers(ctx, "manager.assignee_unreachable", ticket, name=person.name)
