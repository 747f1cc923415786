"""The engineer's side of a job: accept or decline a page, report progress, resolve."""

from __future__ import annotations

from handlers import buttons, lifecycle
from handlers.context import Ctx, Rows
from handlers.errors import NotAllowed, StaleAction
from handlers.faults import FAULT_TYPES
from handlers.jobs import summary_fields
from handlers.paging import page_next
from handlers.states import State
from handlers.texts import lazy
from storage import tickets
from storage.models import PageState, Person, Progress, Role, Ticket, TicketStatus

PROGRESS = {"remote": Progress.REMOTE, "way": Progress.ON_THE_WAY, "site": Progress.ON_SITE}
STAFF = (Role.ENGINEER, Role.EXPERT, Role.MANAGER, Role.ADMIN)


def work_buttons(ticket_id: int) -> Rows:
    t = buttons.ticket
    return [
        [("button.remote", t(ticket_id, "remote")), ("button.on_the_way", t(ticket_id, "way"))],
        [("button.on_site", t(ticket_id, "site")), ("button.resolved", t(ticket_id, "done"))],
    ]


async def accept(ctx: Ctx, ticket: Ticket) -> None:
    me = _staff(ctx)
    if ticket.assignee_id == me.id:
        raise StaleAction("error.already_yours", number=tickets.number(ticket.id or 0))
    if ticket.assignee_id is not None:
        taker = await ctx.tx.get(Person, ticket.assignee_id)
        raise StaleAction("error.taken", number=tickets.number(ticket.id or 0),
                          name=taker.name if taker else "-")
    page = await tickets.pending_page(ctx.tx, ticket.id or 0, me.id or 0)
    if page is None or ticket.status not in (TicketStatus.NEW, TicketStatus.PAGED):
        raise StaleAction(number=tickets.number(ticket.id or 0))
    await lifecycle.move(ctx.tx, ticket, TicketStatus.ACKNOWLEDGED, ctx.now, me.id)
    ticket.assignee_id, ticket.responded_at = me.id, ctx.now
    page.state, page.answered_at = str(PageState.ACCEPTED), ctx.now
    ctx.tx.add(page)
    await tickets.add_event(ctx.tx, ticket, "accepted", ctx.now, me.id)
    await _close_other_pages(ctx, ticket, me)
    fields = summary_fields(ctx, ticket)
    await ctx.edit(page.message_key, me, "engineer.page_taken_by_you", **fields)
    await ctx.reply("engineer.accepted", work_buttons(ticket.id or 0), **fields)
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter:
        await ctx.notify(reporter, "reporter.accepted", name=me.name, phone=me.phone or "-",
                         **fields)


async def _close_other_pages(ctx: Ctx, ticket: Ticket, taker: Person) -> None:
    for page in await tickets.pages(ctx.tx, ticket.id or 0):
        if page.state != PageState.PENDING or page.person_id == taker.id:
            continue
        page.state, page.answered_at = str(PageState.SUPERSEDED), ctx.now
        ctx.tx.add(page)
        other = await ctx.tx.get(Person, page.person_id)
        if other:
            await ctx.edit(page.message_key, other, "engineer.page_taken",
                           number=tickets.number(ticket.id or 0), name=taker.name)


async def decline(ctx: Ctx, ticket: Ticket) -> None:
    me = _staff(ctx)
    page = await tickets.pending_page(ctx.tx, ticket.id or 0, me.id or 0)
    if page is None:
        raise StaleAction(number=tickets.number(ticket.id or 0))
    page.state, page.answered_at = str(PageState.DECLINED), ctx.now
    ctx.tx.add(page)
    await tickets.add_event(ctx.tx, ticket, "declined", ctx.now, me.id)
    number = tickets.number(ticket.id or 0)
    await ctx.edit(page.message_key, me, "engineer.page_declined", number=number)
    await ctx.reply("engineer.declined", number=number)
    await page_next(ctx, ticket)


async def progress(ctx: Ctx, ticket: Ticket, action: str) -> None:
    me = _assignee(ctx, ticket)
    step = PROGRESS[action]
    await lifecycle.move(ctx.tx, ticket, TicketStatus.IN_PROGRESS, ctx.now, me.id,
                         progress=str(step))
    ticket.progress = str(step)
    fields = summary_fields(ctx, ticket)
    await ctx.reply(f"engineer.progress.{step}", work_buttons(ticket.id or 0), **fields)
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter:
        await ctx.notify(reporter, f"reporter.progress.{step}", name=me.name, **fields)


async def start_resolving(ctx: Ctx, ticket: Ticket) -> None:
    _assignee(ctx, ticket)
    rows = [[(f"fault_type.{ft}", buttons.ticket(ticket.id or 0, f"ft{i}"))]
            for i, ft in enumerate(FAULT_TYPES, start=1)]
    ctx.set_state(State.ENG_FAULT_TYPE, ticket=ticket.id)
    await ctx.reply("engineer.ask_fault_type", rows, number=tickets.number(ticket.id or 0))


async def choose_fault_type(ctx: Ctx, ticket: Ticket, action: str) -> None:
    _assignee(ctx, ticket)
    if ctx.state is not State.ENG_FAULT_TYPE or ctx.conv is None \
            or ctx.conv.data.get("ticket") != ticket.id:
        raise StaleAction(number=tickets.number(ticket.id or 0))
    fault_type = FAULT_TYPES[int(action.removeprefix("ft")) - 1]
    ctx.set_state(State.ENG_CAUSE, ticket=ticket.id, fault_type=fault_type)
    await ctx.reply("engineer.ask_cause", fault_type=lazy(f"fault_type.{fault_type}"))


async def note(ctx: Ctx, text: str) -> None:
    """Text typed while resolving: first the cause, then the fix; then the job is resolved."""
    assert ctx.conv is not None
    data = ctx.conv.data
    ticket = await tickets.get(ctx.tx, int(data.get("ticket", 0)), lock=True)
    if ticket is None or ticket.status not in lifecycle.WORKING or ticket.assignee_id != (
        ctx.person.id if ctx.person else None
    ):
        raise StaleAction(number=tickets.number(int(data.get("ticket", 0))), reset=True)
    text = text.strip()[:1000]
    if ctx.state is State.ENG_CAUSE:
        ctx.update_data(cause=text)
        ctx.set_state(State.ENG_FIX, **{**ctx.conv.data})
        await ctx.reply("engineer.ask_fix")
        return
    await resolve(ctx, ticket, data["fault_type"], data.get("cause", ""), text)


async def resolve(ctx: Ctx, ticket: Ticket, fault_type: str, cause: str, fix: str) -> None:
    me = _assignee(ctx, ticket)
    await lifecycle.move(ctx.tx, ticket, TicketStatus.RESOLVED, ctx.now, me.id,
                         fault_type=fault_type, cause=cause, fix=fix)
    ticket.fault_type, ticket.cause, ticket.fix = fault_type, cause, fix
    ticket.resolved_at = ctx.now
    ctx.set_state(State.IDLE)
    fields = summary_fields(ctx, ticket)
    await ctx.reply("engineer.resolved", **fields)
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter:
        rows = [[("button.fixed", buttons.ticket(ticket.id or 0, "ok")),
                 ("button.not_fixed", buttons.ticket(ticket.id or 0, "notok"))]]
        await ctx.notify(reporter, "reporter.resolved", rows, name=me.name, cause=cause,
                         fix=fix, **fields)


def _staff(ctx: Ctx) -> Person:
    if ctx.person is None or ctx.person.role not in STAFF:
        raise NotAllowed()
    return ctx.person


def _assignee(ctx: Ctx, ticket: Ticket) -> Person:
    me = _staff(ctx)
    if ticket.assignee_id != me.id:
        raise NotAllowed("error.not_assignee", number=tickets.number(ticket.id or 0))
    if ticket.status not in lifecycle.WORKING:
        raise StaleAction(number=tickets.number(ticket.id or 0))
    return me
