"""The engineer's side of a job: accept or decline a page, report progress, ask the reporter,
call in an expert, change priority or category, resolve."""

from __future__ import annotations

from dataclasses import dataclass

from handlers import (
    buttons,
    clocks,
    drafts,
    escalation,
    fault_report,
    followup,
    lifecycle,
    logctx,
)
from handlers.context import Ctx, Rows
from handlers.errors import NotAllowed, StaleAction
from handlers.faults import CATEGORIES, FAULT_TYPES
from handlers.jobs import summary_fields
from handlers.paging import page_next, pending
from handlers.sla import PRIORITIES
from handlers.states import State
from handlers.texts import lazy
from storage import tickets
from storage.models import PageState, Person, Progress, Role, Ticket, TicketStatus

PROGRESS = {"remote": Progress.REMOTE, "way": Progress.ON_THE_WAY, "site": Progress.ON_SITE}
STAFF = (Role.ENGINEER, Role.EXPERT, Role.MANAGER, Role.ADMIN)
MANAGERS = (Role.MANAGER, Role.ADMIN)
MIN_NOTE_CHARS = 2


def work_buttons(ticket_id: int) -> Rows:
    t = buttons.ticket
    return [
        [("button.remote", t(ticket_id, "remote")), ("button.on_the_way", t(ticket_id, "way"))],
        [("button.on_site", t(ticket_id, "site")), ("button.resolved", t(ticket_id, "done"))],
        [("button.ask_reporter", t(ticket_id, "wait")), ("button.expert", t(ticket_id, "expert"))],
        [("button.priority", t(ticket_id, "prio")), ("button.category", t(ticket_id, "cat"))],
    ]


async def accept(ctx: Ctx, ticket: Ticket) -> None:
    me = _staff(ctx)
    number = tickets.number(ticket.id or 0)
    if ticket.assignee_id == me.id:
        raise StaleAction("error.already_yours", number=number)
    if ticket.assignee_id is not None:
        taker = await ctx.tx.get(Person, ticket.assignee_id)
        raise StaleAction("error.taken", number=number, name=taker.name if taker else "-")
    page = await tickets.pending_page(ctx.tx, ticket.id or 0, me.id or 0)
    if page is None or ticket.status not in (TicketStatus.NEW, TicketStatus.PAGED):
        raise StaleAction(number=number)
    await lifecycle.move(ctx.tx, ticket, TicketStatus.ACKNOWLEDGED, ctx.now, me.id)
    ticket.assignee_id, ticket.responded_at = me.id, ctx.now
    page.state, page.answered_at = str(PageState.ACCEPTED), ctx.now
    ctx.tx.add(page)
    await tickets.add_event(ctx.tx, ticket, "accepted", ctx.now, me.id)
    await clocks.responded(ctx, ticket)
    await _close_other_pages(ctx, ticket, me)
    fields = summary_fields(ctx, ticket)
    await ctx.edit(page.message_key, me, "engineer.page_taken_by_you", **fields)
    await ctx.reply("engineer.accepted", work_buttons(ticket.id or 0), **fields)
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter:
        await ctx.notify(reporter, "reporter.accepted", name=me.name, phone=me.phone or "-",
                         **fields)


async def _close_other_pages(ctx: Ctx, ticket: Ticket, taker: Person) -> None:
    for page in await pending(ctx, ticket):
        if page.person_id == taker.id:
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
    if page is None or ticket.status not in (TicketStatus.NEW, TicketStatus.PAGED):
        raise StaleAction(number=tickets.number(ticket.id or 0))
    page.state, page.answered_at = str(PageState.DECLINED), ctx.now
    ctx.tx.add(page)
    await tickets.add_event(ctx.tx, ticket, "declined", ctx.now, me.id)
    number = tickets.number(ticket.id or 0)
    await ctx.edit(page.message_key, me, "engineer.page_declined", number=number)
    await ctx.reply("engineer.declined", number=number)
    if not [p for p in await pending(ctx, ticket) if p.id != page.id]:
        await page_next(ctx, ticket)


async def progress(ctx: Ctx, ticket: Ticket, action: str) -> None:
    me = _assignee(ctx, ticket)
    step = PROGRESS[action]
    await lifecycle.move(ctx.tx, ticket, TicketStatus.IN_PROGRESS, ctx.now, me.id,
                         progress=str(step))
    ticket.progress = str(step)
    await clocks.resume(ctx, ticket)
    if step is Progress.ON_SITE:
        await clocks.on_site(ctx, ticket)
    fields = summary_fields(ctx, ticket)
    await ctx.reply(f"engineer.progress.{step}", work_buttons(ticket.id or 0), **fields)
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter:
        await ctx.notify(reporter, f"reporter.progress.{step}", name=me.name, **fields)


async def ask_reporter(ctx: Ctx, ticket: Ticket) -> None:
    _assignee(ctx, ticket)
    ctx.set_state(State.ENG_QUESTION, ticket=ticket.id)
    await ctx.reply("engineer.ask_question", number=tickets.number(ticket.id or 0))


async def send_question(ctx: Ctx, text: str) -> None:
    """The engineer's question goes to the reporter; the resolution clock pauses."""
    assert ctx.conv is not None
    ticket = await _ticket_in_dialogue(ctx)
    me = _assignee(ctx, ticket)
    question = text.strip()[:1000]
    await lifecycle.move(ctx.tx, ticket, TicketStatus.WAITING_FOR_REPORTER, ctx.now, me.id,
                         question=question)
    paused = await clocks.pause(ctx, ticket)
    ctx.set_state(State.IDLE)
    fields = summary_fields(ctx, ticket)
    await ctx.reply("engineer.question_sent", paused=lazy(f"clock.paused_{paused}"), **fields)
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter:
        await ctx.notify(reporter, "reporter.question", name=me.name, question=question,
                         **fields)


async def call_expert(ctx: Ctx, ticket: Ticket) -> None:
    me = _assignee(ctx, ticket)
    if not await escalation.escalate(ctx, ticket, "requested", me.id):
        raise StaleAction("error.top_tier", number=tickets.number(ticket.id or 0))
    await ctx.reply("engineer.escalated", tier=lazy(f"tier.{ticket.tier}"),
                    number=tickets.number(ticket.id or 0))


async def offer_priorities(ctx: Ctx, ticket: Ticket) -> None:
    _may_change(ctx, ticket)
    rows = [[(f"priority.{p}", buttons.ticket(ticket.id or 0, p.lower())) for p in PRIORITIES]]
    await ctx.reply("engineer.choose_priority", rows, number=tickets.number(ticket.id or 0),
                    priority=lazy(f"priority.{ticket.priority}"))


async def offer_categories(ctx: Ctx, ticket: Ticket) -> None:
    _may_change(ctx, ticket)
    tid = ticket.id or 0
    cells = [(f"category.{c}", buttons.ticket(tid, f"c_{c}")) for c in CATEGORIES]
    rows = [cells[i:i + 3] for i in range(0, len(cells), 3)]
    await ctx.reply("engineer.choose_category", rows, number=tickets.number(tid),
                    category=lazy(f"category.{ticket.category}"))


async def change_priority(ctx: Ctx, ticket: Ticket, priority: str) -> None:
    """Record the new priority and recompute every clock from when the ticket was opened."""
    me = _may_change(ctx, ticket)
    old = ticket.priority
    if priority == old:
        await ctx.reply("engineer.priority_same", priority=lazy(f"priority.{old}"))
        return
    ticket.priority = priority
    await tickets.add_event(ctx.tx, ticket, "priority_changed", ctx.now, me.id,
                            **{"from": old, "to": priority})
    await clocks.start_all(ctx, ticket)
    if ticket.paused_at is not None:  # still waiting for the reporter: keep the clock stopped
        ticket.paused_at = None
        await clocks.pause(ctx, ticket)
    fields = {**summary_fields(ctx, ticket), "old": lazy(f"priority.{old}"), "name": me.name}
    await ctx.reply("engineer.priority_changed", **fields)
    for pid in {ticket.reporter_id, ticket.assignee_id} - {me.id, None}:
        person = await ctx.tx.get(Person, pid)
        if person is not None:
            key = "reporter" if pid == ticket.reporter_id else "engineer"
            await ctx.notify(person, f"{key}.priority_changed", **fields)


async def change_category(ctx: Ctx, ticket: Ticket, category: str) -> None:
    me = _may_change(ctx, ticket)
    if category not in CATEGORIES:
        raise StaleAction(number=tickets.number(ticket.id or 0))
    old, ticket.category = ticket.category, category
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, "category_changed", ctx.now, me.id,
                            **{"from": old, "to": category})
    await ctx.reply("engineer.category_changed", number=tickets.number(ticket.id or 0),
                    category=lazy(f"category.{category}"))


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
    ticket = await _ticket_in_dialogue(ctx)
    text = text.strip()[:1000]
    if len(text) < MIN_NOTE_CHARS:
        await ctx.reply("engineer.note_too_short")
        return
    step = {State.ENG_CAUSE: ("cause", State.ENG_FIX, "engineer.ask_fix"),
            State.ENG_FIX: ("fix", State.ENG_PREVENTION, "engineer.ask_prevention")}
    if ctx.state in step:
        field, next_state, question = step[ctx.state]
        ctx.set_state(next_state, **{**ctx.conv.data, field: text})
        await ctx.reply(question)
        return
    data = ctx.conv.data
    await resolve(ctx, ticket, Resolution(data["fault_type"], data.get("cause", ""),
                                          data.get("fix", ""), text))


@dataclass(frozen=True)
class Resolution:
    """The closing record the service plan asks of the engineer."""

    fault_type: str
    cause: str
    fix: str
    prevention: str


async def resolve(ctx: Ctx, ticket: Ticket, r: Resolution) -> None:
    me = _assignee(ctx, ticket)
    await lifecycle.move(ctx.tx, ticket, TicketStatus.RESOLVED, ctx.now, me.id,
                         fault_type=r.fault_type, cause=r.cause, fix=r.fix,
                         prevention=r.prevention)
    ticket.fault_type, ticket.cause, ticket.fix = r.fault_type, r.cause, r.fix
    ticket.prevention, ticket.resolved_at, ticket.paused_at = r.prevention, ctx.now, None
    await clocks.stop_all(ctx, ticket)
    await followup.schedule_after_fix(ctx, ticket)
    ctx.set_state(State.IDLE)
    fields = summary_fields(ctx, ticket)
    await ctx.reply("engineer.resolved", **fields)
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter:
        rows = [[("button.fixed", buttons.ticket(ticket.id or 0, "ok")),
                 ("button.not_fixed", buttons.ticket(ticket.id or 0, "notok"))]]
        await ctx.notify(reporter, "reporter.resolved", rows, name=me.name, cause=r.cause,
                         fix=r.fix, **fields)
    await fault_report.send(ctx, ticket)
    await drafts.offer(ctx, ticket)


async def _ticket_in_dialogue(ctx: Ctx) -> Ticket:
    assert ctx.conv is not None
    tid = int(ctx.conv.data.get("ticket", 0))
    logctx.ticket(tid)
    ticket = await tickets.get(ctx.tx, tid, lock=True)
    me = ctx.person.id if ctx.person else None
    if ticket is None or ticket.status not in lifecycle.WORKING or ticket.assignee_id != me:
        raise StaleAction(number=tickets.number(tid), reset=True)
    return ticket


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


def _may_change(ctx: Ctx, ticket: Ticket) -> Person:
    """The assignee, or a manager, may re-grade an open job."""
    me = _staff(ctx)
    if ticket.status not in lifecycle.OPEN:
        raise StaleAction(number=tickets.number(ticket.id or 0))
    if me.role not in MANAGERS and ticket.assignee_id != me.id:
        raise NotAllowed("error.not_assignee", number=tickets.number(ticket.id or 0))
    return me
