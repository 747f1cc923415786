"""After the fix: confirmation, the 24-hour call-back (回访) and the satisfaction survey.

    resolved ──(reporter: 已解决, or 48 h silence)──► confirmed
    resolved + 24 h ──► "did it come back?" ──又出现了──► reopened as a recurrence (priority +1)
                                   └─没有复发─► score 1–5 ──► optional comment ──► closed
    no answer ──(4 h)──► one reminder ──(4 h)──► "no response", closed

Never more than two follow-up messages; one due in quiet hours waits until the morning.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers import buttons, clocks, escalation, lifecycle, logctx
from handlers.context import Ctx
from handlers.errors import NotAllowed, StaleAction
from handlers.jobs import summary_fields, tell_managers
from storage import tickets, timers
from storage.models import Person, Ticket, TicketStatus

FOLLOWUP_KINDS = ["confirm_due", "followup", "followup_reminder", "followup_expired"]
SCORES = (1, 2, 3, 4, 5)
LOW_SCORE = 2
MAX_FOLLOWUPS = 2


def out_of_quiet_hours(ctx: Ctx, when: datetime) -> datetime:
    """Move a moment in the site's quiet hours (default 21:00–08:00) to the next morning."""
    cfg, local = ctx.config, when.astimezone(ctx.config.zone)
    start, end = cfg.quiet_start, cfg.quiet_end
    t = local.time()
    quiet = (start <= t or t < end) if start > end else (start <= t < end)
    if not quiet:
        return when
    morning = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if t >= end:  # evening: the next day's morning
        morning += timedelta(days=1)
    return morning.astimezone(when.tzinfo)


async def schedule_after_fix(ctx: Ctx, ticket: Ticket) -> None:
    tid, cfg = ticket.id or 0, ctx.config
    await timers.schedule(ctx.tx, f"confirm_due:{tid}", "confirm_due",
                          ctx.now + timedelta(hours=cfg.confirm_auto_hours), ticket_id=tid)
    due = out_of_quiet_hours(ctx, ctx.now + timedelta(hours=cfg.followup_delay_hours))
    await timers.schedule(ctx.tx, f"followup:{tid}", "followup", due, ticket_id=tid)


async def cancel(ctx: Ctx, ticket: Ticket) -> None:
    await timers.cancel_for_ticket(ctx.tx, ticket.id or 0, FOLLOWUP_KINDS)


async def auto_confirm(ctx: Ctx, ticket: Ticket) -> None:
    if ticket.status != TicketStatus.RESOLVED or ticket.confirmed_at is not None:
        return
    ticket.confirmed_at = ctx.now
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, "auto_confirmed", ctx.now)


async def start(ctx: Ctx, ticket: Ticket) -> None:
    """The call-back is due: ask whether the fault came back."""
    if ticket.status != TicketStatus.RESOLVED or ticket.survey_state:
        return
    ticket.survey_state, ticket.followup_step, ticket.followups_sent = "sent", "recurrence", 1
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, "followup", ctx.now)
    await _ask(ctx, ticket, reminder=False)
    await _next_timer(ctx, ticket, "followup_reminder")


async def remind(ctx: Ctx, ticket: Ticket) -> None:
    if ticket.survey_state != "sent" or ticket.followups_sent >= MAX_FOLLOWUPS:
        return
    ticket.followups_sent += 1
    ctx.tx.add(ticket)
    await _ask(ctx, ticket, reminder=True)
    await _next_timer(ctx, ticket, "followup_expired")


async def expire(ctx: Ctx, ticket: Ticket) -> None:
    """No answer after the reminder: recorded as no response; the job closes."""
    if ticket.survey_state != "sent":
        return
    ticket.survey_state, ticket.followup_step = "no_response", ""
    await tickets.add_event(ctx.tx, ticket, "survey_no_response", ctx.now)
    await close(ctx, ticket)


async def _next_timer(ctx: Ctx, ticket: Ticket, kind: str) -> None:
    gap = timedelta(hours=ctx.config.followup_reminder_hours)
    due = out_of_quiet_hours(ctx, ctx.now + gap)
    await timers.schedule(ctx.tx, f"{kind}:{ticket.id}", kind, due, ticket_id=ticket.id)


async def _ask(ctx: Ctx, ticket: Ticket, *, reminder: bool) -> None:
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter is None:
        return
    tid, step = ticket.id or 0, ticket.followup_step
    if step == "recurrence":
        rows = [[("button.no_recurrence", buttons.ticket(tid, "fu_ok")),
                 ("button.recurred", buttons.ticket(tid, "fu_again"))]]
    elif step == "score":
        rows = [[(f"survey.score_{s}", buttons.ticket(tid, f"s{s}"))] for s in reversed(SCORES)]
    else:
        rows = [[("button.skip", buttons.ticket(tid, "skip"))]]
    prefix = "followup.reminder_" if reminder else "followup.ask_"
    await ctx.notify(reporter, prefix + step, rows, **summary_fields(ctx, ticket))


def _reporter(ctx: Ctx, ticket: Ticket, step: str) -> Person:
    number = tickets.number(ticket.id or 0)
    if ctx.person is None or ctx.person.id != ticket.reporter_id:
        raise NotAllowed("error.not_reporter", number=number)
    if ticket.survey_state == "answered" or (step == "score" and ticket.satisfaction):
        raise StaleAction("error.survey_done", number=number)
    if ticket.survey_state != "sent" or ticket.followup_step != step:
        raise StaleAction(number=number)
    return ctx.person


async def no_recurrence(ctx: Ctx, ticket: Ticket) -> None:
    _reporter(ctx, ticket, "recurrence")
    ticket.followup_step = "score"
    ctx.tx.add(ticket)
    await timers.cancel(ctx.tx, f"followup_reminder:{ticket.id}", f"followup_expired:{ticket.id}")
    await _ask(ctx, ticket, reminder=False)


async def recurred(ctx: Ctx, ticket: Ticket) -> None:
    """The fault came back: the original ticket reopens, one priority level higher."""
    me = _reporter(ctx, ticket, "recurrence")
    old = ticket.priority
    ticket.priority = f"P{max(1, int(old[1]) - 1)}"
    ticket.recurrences += 1
    ticket.survey_state, ticket.followup_step, ticket.resolved_at = "", "", None
    ticket.confirmed_at = ticket.closed_at = None
    await lifecycle.move(ctx.tx, ticket, TicketStatus.REOPENED, ctx.now, me.id, recurrence=True)
    await tickets.add_event(ctx.tx, ticket, "recurrence", ctx.now, me.id,
                            **{"from": old, "to": ticket.priority})
    await cancel(ctx, ticket)
    await clocks.start_all(ctx, ticket, start=ctx.now)
    await _tell_recurrence(ctx, ticket, me)


async def _tell_recurrence(ctx: Ctx, ticket: Ticket, me: Person) -> None:
    from handlers.engineer import work_buttons

    fields = summary_fields(ctx, ticket)
    await ctx.reply("followup.recurrence_reopened", **fields)
    history = await escalation.history_text(ctx, ticket)
    await tell_managers(ctx, "manager.recurrence", ticket, history=history)
    engineer = await ctx.tx.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    if engineer is not None:
        await ctx.notify(engineer, "engineer.recurrence", work_buttons(ticket.id or 0),
                         name=me.name, **fields)


async def score(ctx: Ctx, ticket: Ticket, value: int) -> None:
    me = _reporter(ctx, ticket, "score")
    ticket.satisfaction, ticket.followup_step = value, "comment"
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, "survey", ctx.now, me.id, score=value)
    await timers.cancel(ctx.tx, f"followup_reminder:{ticket.id}", f"followup_expired:{ticket.id}")
    if value <= LOW_SCORE:
        history = await escalation.history_text(ctx, ticket)
        await tell_managers(ctx, "manager.low_score", ticket, score=value, history=history)
    await _ask(ctx, ticket, reminder=False)


async def comment(ctx: Ctx, ticket: Ticket, text: str | None) -> None:
    me = _reporter(ctx, ticket, "comment")
    if text:
        await tickets.add_event(ctx.tx, ticket, "survey_comment", ctx.now, me.id,
                                text=text.strip()[:1000])
    ticket.survey_state, ticket.followup_step = "answered", ""
    await close(ctx, ticket)
    await ctx.reply("followup.thanks", **summary_fields(ctx, ticket))


async def close(ctx: Ctx, ticket: Ticket) -> None:
    if ticket.status != TicketStatus.RESOLVED:
        return
    ticket.closed_at = ctx.now
    ticket.confirmed_at = ticket.confirmed_at or ctx.now
    await lifecycle.move(ctx.tx, ticket, TicketStatus.CLOSED, ctx.now, None)
    await cancel(ctx, ticket)
    from handlers import retention

    await retention.schedule(ctx, ticket)


async def awaiting_comment(ctx: Ctx) -> Ticket | None:
    """A ticket of this reporter whose survey waits for the optional comment."""
    if ctx.person is None:
        return None
    for t in await tickets.resolved_of(ctx.tx, ctx.person.id or 0):
        if t.survey_state == "sent" and t.followup_step == "comment":
            logctx.ticket(t.id)
            return await tickets.get(ctx.tx, t.id or 0, lock=True)
    return None
