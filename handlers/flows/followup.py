"""After the fix: confirmation, the 24-hour call-back (回访) and the satisfaction survey.

    resolved ──(reporter: 已解决, or 48 h silence)──► confirmed
    resolved + 24 h ──► "did it come back?" ──又出现了──► reopened as a recurrence (priority +1)
                                   └─没有复发─► score 1–5 ──► optional comment ──► closed
    no answer ──(4 h)──► one reminder ──(4 h)──► "no response", closed

Never more than two follow-up messages; one due in quiet hours waits until the morning.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from handlers.core import logctx, tokens
from handlers.core.context import Ctx, Rows
from handlers.core.errors import NotAllowed, StaleAction
from handlers.core.router import Router
from handlers.flows import escalation
from handlers.flows.alarms import links
from handlers.flows.engineer.keyboard import work_buttons
from handlers.flows.jobs import clocks
from handlers.flows.jobs.status import move
from handlers.flows.jobs.summary import number, summary_fields, tell_managers
from handlers.flows.records import retention
from storage import tickets, timers
from storage.models import Person, Ticket, TicketStatus, Timer

router = Router("followup")
SCORES = (1, 2, 3, 4, 5)
LOW_SCORE = 2
MAX_FOLLOWUPS = 2


class Action(StrEnum):
    NO_RECURRENCE = "fu_ok"
    RECURRED = "fu_again"
    SCORE = "score"  # arg 1–5
    SKIP = "skip"


class Due(StrEnum):
    CONFIRM = "confirm_due"
    FOLLOWUP = "followup"
    REMINDER = "followup_reminder"
    EXPIRED = "followup_expired"


class Event(StrEnum):
    AUTO_CONFIRMED = "auto_confirmed"
    FOLLOWUP = "followup"
    NO_RESPONSE = "survey_no_response"
    RECURRENCE = "recurrence"
    SURVEY = "survey"
    COMMENT = "survey_comment"


class Step(StrEnum):
    """Where the call-back stands (ticket.followup_step)."""

    RECURRENCE = "recurrence"
    SCORE = "score"
    COMMENT = "comment"


class Survey(StrEnum):
    """How the satisfaction survey stands (stored in the ticket's survey_state)."""

    SENT = "sent"
    ANSWERED = "answered"
    NO_RESPONSE = "no_response"


def _key(kind: Due, ticket: Ticket) -> str:
    return f"{kind}:{ticket.id}"


async def schedule_after_fix(ctx: Ctx, ticket: Ticket) -> None:
    tid, cfg = ticket.id or 0, ctx.config
    await timers.schedule(ctx.tx, _key(Due.CONFIRM, ticket), Due.CONFIRM,
                          ctx.now + timedelta(hours=cfg.confirm_auto_hours), ticket_id=tid)
    due = cfg.after_quiet_hours(ctx.now + timedelta(hours=cfg.followup_delay_hours))
    await timers.schedule(ctx.tx, _key(Due.FOLLOWUP, ticket), Due.FOLLOWUP, due, ticket_id=tid)


async def cancel(ctx: Ctx, ticket: Ticket) -> None:
    await timers.cancel_for_ticket(ctx.tx, ticket.id or 0, list(Due))


async def confirmed(ctx: Ctx, ticket: Ticket) -> None:
    """The reporter confirmed the fix: it need not be taken as confirmed later."""
    await timers.cancel(ctx.tx, _key(Due.CONFIRM, ticket))


@router.ticket_timer(Due.CONFIRM)
async def auto_confirm(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    if ticket.status != TicketStatus.RESOLVED or ticket.confirmed_at is not None:
        return
    ticket.confirmed_at = ctx.now
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, Event.AUTO_CONFIRMED, ctx.now)


@router.ticket_timer(Due.FOLLOWUP)
async def start(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    """The call-back is due: ask whether the fault came back."""
    if ticket.status != TicketStatus.RESOLVED or ticket.survey_state:
        return
    came_back = await links.followup_verdict(ctx, ticket)
    if came_back is not None:  # monitoring reported it: its alarms answer, not a person
        await _monitoring_answers(ctx, ticket, came_back)
        return
    ticket.survey_state, ticket.followup_step = str(Survey.SENT), str(Step.RECURRENCE)
    ticket.followups_sent = 1
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, Event.FOLLOWUP, ctx.now)
    await _ask(ctx, ticket, reminder=False)
    await _next_timer(ctx, ticket, Due.REMINDER)


@router.ticket_timer(Due.REMINDER)
async def remind(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    if ticket.survey_state != Survey.SENT or ticket.followups_sent >= MAX_FOLLOWUPS:
        return
    ticket.followups_sent += 1
    ctx.tx.add(ticket)
    await _ask(ctx, ticket, reminder=True)
    await _next_timer(ctx, ticket, Due.EXPIRED)


@router.ticket_timer(Due.EXPIRED)
async def expire(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    """The last answer did not come: the job closes all the same. With a score given, only
    the optional comment is missing (the survey counts as answered); otherwise it is
    recorded as no response."""
    if ticket.survey_state != Survey.SENT:
        return
    if ticket.followup_step == Step.COMMENT:
        ticket.survey_state, ticket.followup_step = str(Survey.ANSWERED), ""
    else:
        ticket.survey_state, ticket.followup_step = str(Survey.NO_RESPONSE), ""
        await tickets.add_event(ctx.tx, ticket, Event.NO_RESPONSE, ctx.now)
    await close(ctx, ticket)


async def _next_timer(ctx: Ctx, ticket: Ticket, kind: Due) -> None:
    gap = timedelta(hours=ctx.config.followup_reminder_hours)
    due = ctx.config.after_quiet_hours(ctx.now + gap)
    await timers.schedule(ctx.tx, _key(kind, ticket), kind, due, ticket_id=ticket.id)


async def _answered_a_step(ctx: Ctx, ticket: Ticket) -> None:
    """The reporter answered: no reminder for the question they answered, and the job still
    closes if the next one (the score, the optional comment) gets no answer."""
    await timers.cancel(ctx.tx, _key(Due.REMINDER, ticket))
    await _next_timer(ctx, ticket, Due.EXPIRED)


async def _ask(ctx: Ctx, ticket: Ticket, *, reminder: bool) -> None:
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter is None:
        return
    tid, step = ticket.id, ticket.followup_step
    rows: Rows
    if step == Step.RECURRENCE:
        rows = [[("button.no_recurrence", tokens.ticket(tid, Action.NO_RECURRENCE)),
                 ("button.recurred", tokens.ticket(tid, Action.RECURRED))]]
    elif step == Step.SCORE:
        rows = [[(f"survey.score_{s}", tokens.ticket(tid, Action.SCORE, s))]
                for s in reversed(SCORES)]
    else:
        rows = [[("button.skip", tokens.ticket(tid, Action.SKIP))]]
    prefix = "followup.reminder_" if reminder else "followup.ask_"
    await ctx.notify(reporter, prefix + step, rows, **summary_fields(ctx, ticket))


def _reporter(ctx: Ctx, ticket: Ticket, step: Step) -> Person:
    if ctx.person is None or ctx.person.id != ticket.reporter_id:
        raise NotAllowed("error.not_reporter", number=number(ticket))
    if ticket.survey_state == Survey.ANSWERED or (step == Step.SCORE and ticket.satisfaction):
        raise StaleAction("error.survey_done", number=number(ticket))
    if ticket.survey_state != Survey.SENT or ticket.followup_step != step:
        raise StaleAction(number=number(ticket))
    return ctx.person


@router.ticket_button(Action.NO_RECURRENCE)
async def no_recurrence(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    _reporter(ctx, ticket, Step.RECURRENCE)
    ticket.followup_step = str(Step.SCORE)
    ctx.tx.add(ticket)
    await _answered_a_step(ctx, ticket)
    await _ask(ctx, ticket, reminder=False)


@router.ticket_button(Action.RECURRED)
async def recurred(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    """The fault came back: the original ticket reopens, one priority level higher."""
    me = _reporter(ctx, ticket, Step.RECURRENCE)
    await _reopen(ctx, ticket, me.id)
    await ctx.reply("followup.recurrence_reopened", **summary_fields(ctx, ticket))
    await _tell_recurrence(ctx, ticket, me.name)


async def _reopen(ctx: Ctx, ticket: Ticket, actor_id: int | None) -> None:
    old = ticket.priority
    ticket.priority = f"P{max(1, int(old[1]) - 1)}"
    ticket.recurrences += 1
    ticket.survey_state, ticket.followup_step, ticket.resolved_at = "", "", None
    ticket.confirmed_at = ticket.closed_at = None
    await move(ctx.tx, ticket, TicketStatus.REOPENED, ctx.now, actor_id, recurrence=True)
    await tickets.add_event(ctx.tx, ticket, Event.RECURRENCE, ctx.now, actor_id,
                            **{"from": old, "to": ticket.priority})
    await cancel(ctx, ticket)
    await clocks.start_all(ctx, ticket, start=ctx.now)


async def _monitoring_answers(ctx: Ctx, ticket: Ticket, came_back: bool) -> None:
    """The call-back of a ticket monitoring opened: the alarm came back (a recurrence, as if
    a reporter had said so) or stayed quiet (closed; there is nobody to survey)."""
    if came_back:
        await _reopen(ctx, ticket, None)
        await _tell_recurrence(ctx, ticket, ctx.t("alarm.monitoring"))
        return
    await tickets.add_event(ctx.tx, ticket, links.Event.QUIET, ctx.now)
    await close(ctx, ticket)


async def _tell_recurrence(ctx: Ctx, ticket: Ticket, who: str) -> None:
    fields = summary_fields(ctx, ticket)
    history = await escalation.history_text(ctx, ticket)
    await tell_managers(ctx, "manager.recurrence", ticket, history=history)
    engineer = await ctx.tx.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    if engineer is not None:
        await ctx.notify(engineer, "engineer.recurrence", work_buttons(ticket),
                         name=who, **fields)


@router.ticket_button(Action.SCORE, arg="[1-5]", legacy=r"s([1-5])")
async def score(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    me = _reporter(ctx, ticket, Step.SCORE)
    value = int(arg)
    ticket.satisfaction, ticket.followup_step = value, str(Step.COMMENT)
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, Event.SURVEY, ctx.now, me.id, score=value)
    await _answered_a_step(ctx, ticket)
    if value <= LOW_SCORE:
        history = await escalation.history_text(ctx, ticket)
        await tell_managers(ctx, "manager.low_score", ticket, score=value, history=history)
    await _ask(ctx, ticket, reminder=False)


@router.ticket_button(Action.SKIP)
async def skip_comment(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    await comment(ctx, ticket, None)


async def comment(ctx: Ctx, ticket: Ticket, text: str | None) -> None:
    me = _reporter(ctx, ticket, Step.COMMENT)
    comment_text = (text or "").strip()[:1000]
    if comment_text:
        await tickets.add_event(ctx.tx, ticket, Event.COMMENT, ctx.now, me.id, text=comment_text)
        if ticket.satisfaction is not None and ticket.satisfaction <= LOW_SCORE:
            await tell_managers(ctx, "manager.low_score_comment", ticket,
                                score=ticket.satisfaction, comment=comment_text)
    ticket.survey_state, ticket.followup_step = str(Survey.ANSWERED), ""
    await close(ctx, ticket)
    await ctx.reply("followup.thanks", **summary_fields(ctx, ticket))


async def close(ctx: Ctx, ticket: Ticket) -> None:
    if ticket.status != TicketStatus.RESOLVED:
        return
    ticket.closed_at = ctx.now
    ticket.confirmed_at = ticket.confirmed_at or ctx.now
    await move(ctx.tx, ticket, TicketStatus.CLOSED, ctx.now, None)
    await cancel(ctx, ticket)
    await retention.schedule(ctx, ticket)


@router.idle_text
async def comment_text(ctx: Ctx, text: str) -> bool:
    """Idle text while a survey waits for its optional comment: it is the comment."""
    if ctx.person is None:
        return False
    for t in await tickets.resolved_of(ctx.tx, ctx.person.id or 0):
        if t.survey_state == Survey.SENT and t.followup_step == Step.COMMENT:
            logctx.ticket(t.id)
            ticket = await tickets.get(ctx.tx, t.id or 0, lock=True)
            if ticket is not None:
                await comment(ctx, ticket, text)
                return True
    return False
