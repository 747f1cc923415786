"""The engineer's side of a job they hold: report progress, ask the reporter, call in an
expert, change priority or category, resolve (fault type → cause → fix → prevention)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handlers.core import logctx, tokens
from handlers.core.context import IDLE, Ctx
from handlers.core.errors import NotAllowed, StaleAction
from handlers.core.router import Router
from handlers.core.texts import lazy
from handlers.flows import consent, escalation, followup, knowledge
from handlers.flows.alarms import links
from handlers.flows.engineer import parts
from handlers.flows.engineer.keyboard import Action, next_steps, work_buttons
from handlers.flows.jobs import clocks
from handlers.flows.jobs.status import move
from handlers.flows.jobs.summary import (
    MANAGERS,
    STAFF,
    number,
    priority_label,
    summary_fields,
    tell,
)
from handlers.flows.records import fault_report
from handlers.flows.reporter import fixed_rows
from handlers.rules.faults import CATEGORIES, FAULT_TYPES
from handlers.rules.lifecycle import OPEN, WORKING
from handlers.rules.sla import PRIORITIES
from storage import tickets
from storage.models import Person, Progress, Ticket, TicketStatus

router = Router("engineer")
MIN_NOTE_CHARS = 1  # "无" is a fair answer to "how to prevent it"
PROGRESS_ACTION = {Progress.REMOTE: Action.REMOTE, Progress.ON_THE_WAY: Action.ON_THE_WAY,
                   Progress.ON_SITE: Action.ON_SITE}


class State(StrEnum):
    FAULT_TYPE = "eng_fault_type"  # resolving: which of the five fault types
    CAUSE = "eng_cause"  # … what caused it
    FIX = "eng_fix"  # … what was done
    PREVENTION = "eng_prevention"  # … how to keep it from happening again
    QUESTION = "eng_question"  # typing a question for the reporter


class Event(StrEnum):
    PRIORITY_CHANGED = "priority_changed"
    CATEGORY_CHANGED = "category_changed"


@dataclass
class Resolving:
    """The closing record being typed (and, while asking, only the ticket)."""

    ticket: int = 0
    fault_type: str = ""
    cause: str = ""
    fix: str = ""


router.cancellable(State, "command.cancel_resolving")


def assignee(ctx: Ctx, ticket: Ticket) -> None:
    """The person pressing holds the job, and it is still being worked on."""
    if ctx.person is None or ctx.person.role not in STAFF:
        raise NotAllowed()
    if ticket.assignee_id != ctx.person.id:
        raise NotAllowed("error.not_assignee", number=number(ticket))
    if ticket.status not in WORKING:
        raise StaleAction(number=number(ticket))


def may_change(ctx: Ctx, ticket: Ticket) -> None:
    """The assignee, or a manager, may re-grade an open job."""
    if ctx.person is None or ctx.person.role not in STAFF:
        raise NotAllowed()
    if ticket.status not in OPEN:
        raise StaleAction(number=number(ticket))
    if ctx.person.role not in MANAGERS and ticket.assignee_id != ctx.person.id:
        raise NotAllowed("error.not_assignee", number=number(ticket))


def _me(ctx: Ctx) -> Person:
    assert ctx.person is not None  # the route's guard checked who presses
    return ctx.person


@router.ticket_button(Action.REMOTE, guards=[assignee])
async def remote(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    await consent.ask_plan(ctx, ticket)  # remote work starts only once the reporter agrees


@router.ticket_button(Action.ON_THE_WAY, guards=[assignee])
async def on_the_way(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    await _progress(ctx, ticket, Progress.ON_THE_WAY)


@router.ticket_button(Action.ON_SITE, guards=[assignee])
async def on_site(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    await _progress(ctx, ticket, Progress.ON_SITE)


async def _progress(ctx: Ctx, ticket: Ticket, step: Progress) -> None:
    me = _me(ctx)
    if PROGRESS_ACTION[step] not in next_steps(ticket):  # e.g. 出发去现场 after 已到现场
        raise StaleAction("error.progress_done", number=number(ticket),
                          progress=lazy(f"progress.{ticket.progress}"))
    await move(ctx.tx, ticket, TicketStatus.IN_PROGRESS, ctx.now, me.id, progress=str(step))
    ticket.progress = str(step)
    await clocks.resume(ctx, ticket)
    if step is Progress.ON_SITE:
        await clocks.on_site(ctx, ticket)
    fields = summary_fields(ctx, ticket)
    await ctx.reply(f"engineer.progress.{step}", work_buttons(ticket), **fields)
    await tell(ctx, ticket.reporter_id, f"reporter.progress.{step}", name=me.name, **fields)


@router.ticket_button(Action.ASK_REPORTER, guards=[assignee])
async def ask_reporter(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    ctx.set_state(State.QUESTION, Resolving(ticket=ticket.id or 0))
    await ctx.reply("engineer.ask_question", number=number(ticket))


@router.text(State.QUESTION)
async def send_question(ctx: Ctx, text: str) -> None:
    """The engineer's question goes to the reporter; the resolution clock pauses."""
    ticket = await _ticket_in_dialogue(ctx)
    me = _me(ctx)
    question = text.strip()[:1000]
    await move(ctx.tx, ticket, TicketStatus.WAITING_FOR_REPORTER, ctx.now, me.id,
               question=question)
    paused = await clocks.pause(ctx, ticket)
    ctx.set_state(IDLE)
    fields = summary_fields(ctx, ticket)
    await ctx.reply("engineer.question_sent", paused=lazy(f"clock.paused_{paused}"), **fields)
    await tell(ctx, ticket.reporter_id, "reporter.question", name=me.name, question=question,
               **fields)


@router.ticket_button(Action.EXPERT, guards=[assignee])
async def call_expert(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    if not await escalation.escalate(ctx, ticket, "requested", _me(ctx).id):
        raise StaleAction("error.top_tier", number=number(ticket))
    await ctx.reply("engineer.escalated", tier=lazy(f"tier.{ticket.tier}"),
                    number=number(ticket))


@router.ticket_button(Action.PRIORITY, guards=[may_change])
async def offer_priorities(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    rows = [[(priority_label(ctx, p), tokens.ticket(ticket.id, Action.SET_PRIORITY, p))
             for p in PRIORITIES]]
    await ctx.reply("engineer.choose_priority", rows, number=number(ticket),
                    priority=priority_label(ctx, ticket.priority))


@router.ticket_button(Action.CATEGORY, guards=[may_change])
async def offer_categories(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    cells = [(f"category.{c}", tokens.ticket(ticket.id, Action.SET_CATEGORY, c))
             for c in CATEGORIES]
    rows = [cells[i:i + 3] for i in range(0, len(cells), 3)]
    await ctx.reply("engineer.choose_category", rows, number=number(ticket),
                    category=lazy(f"category.{ticket.category}"))


@router.ticket_button(Action.SET_PRIORITY, arg="P[1-4]", guards=[may_change],
                      legacy=r"p([1-4])", legacy_arg="P{}")
async def choose_priority(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    await change_priority(ctx, ticket, arg)


@router.ticket_button(Action.SET_CATEGORY, arg="|".join(CATEGORIES), guards=[may_change],
                      legacy=r"c_([a-z]+)")
async def choose_category(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    await change_category(ctx, ticket, arg)


async def change_priority(ctx: Ctx, ticket: Ticket, priority: str) -> None:
    """Record the new priority and recompute every clock from when the ticket was opened."""
    may_change(ctx, ticket)
    me = _me(ctx)
    old = ticket.priority
    if priority == old:
        await ctx.reply("engineer.priority_same", priority=priority_label(ctx, old))
        return
    ticket.priority = priority
    await tickets.add_event(ctx.tx, ticket, Event.PRIORITY_CHANGED, ctx.now, me.id,
                            **{"from": old, "to": priority})
    await clocks.start_all(ctx, ticket)
    if ticket.paused_at is not None:  # still waiting for the reporter: keep the clock stopped
        ticket.paused_at = None
        await clocks.pause(ctx, ticket)
    fields = {**summary_fields(ctx, ticket), "old": priority_label(ctx, old), "name": me.name}
    await ctx.reply("engineer.priority_changed", **fields)
    for pid in {ticket.reporter_id, ticket.assignee_id} - {me.id, None}:
        key = "reporter" if pid == ticket.reporter_id else "engineer"
        await tell(ctx, pid, f"{key}.priority_changed", **fields)


async def change_category(ctx: Ctx, ticket: Ticket, category: str) -> None:
    may_change(ctx, ticket)
    me = _me(ctx)
    if category not in CATEGORIES:
        raise StaleAction(number=number(ticket))
    old, ticket.category = ticket.category, category
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, Event.CATEGORY_CHANGED, ctx.now, me.id,
                            **{"from": old, "to": category})
    await ctx.reply("engineer.category_changed", number=number(ticket),
                    category=lazy(f"category.{category}"))


@router.ticket_button(Action.RESOLVED, guards=[assignee])
async def start_resolving(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    rows = [[(f"fault_type.{ft}", tokens.ticket(ticket.id, Action.FAULT_TYPE, i))]
            for i, ft in enumerate(FAULT_TYPES, start=1)]
    ctx.set_state(State.FAULT_TYPE, Resolving(ticket=ticket.id or 0))
    firing = await links.still_firing(ctx, ticket)
    if firing is not None:  # a warning, not a refusal: monitoring may lag behind the fix
        await ctx.reply("alarm.still_firing", number=number(ticket), device=firing.device or "-",
                        since=firing.last_at)
    await ctx.reply("engineer.ask_fault_type", rows, number=number(ticket))


@router.ticket_button(Action.FAULT_TYPE, arg="[1-5]", guards=[assignee], legacy=r"ft([1-5])")
async def choose_fault_type(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    if ctx.state != State.FAULT_TYPE or ctx.data(Resolving).ticket != ticket.id:
        raise StaleAction(number=number(ticket))
    fault_type = FAULT_TYPES[int(arg) - 1]
    ctx.set_state(State.CAUSE, Resolving(ticket=ticket.id or 0, fault_type=fault_type))
    await ctx.reply("engineer.ask_cause", fault_type=lazy(f"fault_type.{fault_type}"))


@router.text(State.FAULT_TYPE)
async def fault_type_typed(ctx: Ctx, text: str) -> None:
    await ctx.reply("engineer.pick_fault_type")


NEXT_NOTE = {State.CAUSE: (State.FIX, "engineer.ask_fix"),
             State.FIX: (State.PREVENTION, "engineer.ask_prevention")}


@router.text(State.CAUSE, State.FIX, State.PREVENTION)
async def note(ctx: Ctx, text: str) -> None:
    """Text typed while resolving: the cause, then the fix, then prevention: resolved."""
    ticket = await _ticket_in_dialogue(ctx)
    text = text.strip()[:1000]
    if len(text) < MIN_NOTE_CHARS:
        await ctx.reply("engineer.note_too_short")
        return
    record = ctx.data(Resolving)
    if ctx.state == State.CAUSE:
        record.cause = text
    elif ctx.state == State.FIX:
        record.fix = text
    else:
        await resolve(ctx, ticket, record, prevention=text)
        return
    next_state, question = NEXT_NOTE[State(ctx.state)]
    ctx.set_state(next_state, record)
    await ctx.reply(question)


async def resolve(ctx: Ctx, ticket: Ticket, r: Resolving, *, prevention: str) -> None:
    assignee(ctx, ticket)
    me = _me(ctx)
    await move(ctx.tx, ticket, TicketStatus.RESOLVED, ctx.now, me.id, fault_type=r.fault_type,
               cause=r.cause, fix=r.fix, prevention=prevention)
    ticket.fault_type, ticket.cause, ticket.fix = r.fault_type, r.cause, r.fix
    ticket.prevention, ticket.resolved_at, ticket.paused_at = prevention, ctx.now, None
    await clocks.stop_all(ctx, ticket)
    await followup.schedule_after_fix(ctx, ticket)
    ctx.set_state(IDLE)
    fields = summary_fields(ctx, ticket)
    await ctx.reply("engineer.resolved", **fields)
    # the reporter's summary comes last, so its confirm buttons stay at the bottom of the chat
    await fault_report.tell_reporter(ctx, ticket, me, fixed_rows(ticket))
    await links.tell_followers(ctx, ticket, "alarm.follower_fixed", name=me.name)
    await knowledge.offer(ctx, ticket)
    await parts.ask(ctx, ticket)  # then the managers' full report, with the parts used


async def _ticket_in_dialogue(ctx: Ctx) -> Ticket:
    tid = ctx.data(Resolving).ticket
    logctx.ticket(tid)
    ticket = await tickets.get(ctx.tx, tid, lock=True)
    me = ctx.person.id if ctx.person else None
    if ticket is None or ticket.status not in WORKING or ticket.assignee_id != me:
        raise StaleAction(number=tickets.number(tid), reset=True)
    return ticket
