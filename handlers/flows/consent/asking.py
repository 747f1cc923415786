"""The engineer's one line (远程处理 → consent_plan) and the reporter's 同意 / 不同意, pressed or
typed."""

from __future__ import annotations

from handlers.core import logctx, tokens
from handlers.core.context import IDLE, Btn, Ctx, Rows
from handlers.core.errors import BadButton, NotAllowed, StaleAction
from handlers.core.messages import FileRef
from handlers.core.texts import lazy
from handlers.flows.consent.base import (
    NO_WORDS,
    PLAN_MAX_CHARS,
    PLAN_MIN_CHARS,
    REQUEST,
    TRAILING,
    YES_WORDS,
    Action,
    Due,
    Event,
    Planning,
    Request,
    State,
    answer_rows,
    close_buttons,
    locked,
    may_go_remote,
    on_site_rows,
    requests,
    router,
    schedule,
    start_remote,
    timer_key,
    waiting,
)
from handlers.flows.engineer.keyboard import work_buttons
from handlers.flows.jobs import clocks
from handlers.flows.jobs.summary import number, summary_fields
from storage import tickets, timers
from storage.models import Person, Ticket, TicketStatus

# ── the engineer: 远程处理 → one line of what will be done ──────────────────────────────────

async def ask_plan(ctx: Ctx, ticket: Ticket) -> None:
    """远程处理 pressed by the job's holder (engineer/work.py checked that): ask what will be
    done remotely. Nothing moves yet."""
    if not may_go_remote(ticket):
        raise StaleAction("error.progress_done", number=number(ticket),
                          progress=lazy(f"progress.{ticket.progress}"))
    ctx.set_state(State.PLAN, Planning(ticket=ticket.id or 0))
    await ctx.reply("consent.ask_plan", number=number(ticket), limit=PLAN_MAX_CHARS)


@router.text(State.PLAN)
async def plan_typed(ctx: Ctx, text: str) -> None:
    ticket = await _planned_ticket(ctx)
    plan = " ".join(text.split())
    if len(plan) < PLAN_MIN_CHARS:
        await ctx.reply("consent.plan_short")
    elif len(plan) > PLAN_MAX_CHARS:
        await ctx.reply("consent.plan_long", limit=PLAN_MAX_CHARS, length=len(plan))
    else:
        await ask(ctx, ticket, plan)


@router.photo(State.PLAN)
async def plan_not_a_file(ctx: Ctx, ref: FileRef | None) -> None:
    await ctx.reply("consent.plan_in_words", limit=PLAN_MAX_CHARS)


@router.location(State.PLAN)
async def plan_not_a_place(ctx: Ctx, where: tuple[float, float]) -> None:
    await ctx.reply("consent.plan_in_words", limit=PLAN_MAX_CHARS)


async def _planned_ticket(ctx: Ctx) -> Ticket:
    """The ticket being described, still the typist's and still able to go remote."""
    tid = ctx.data(Planning).ticket
    logctx.ticket(tid)
    ticket = await tickets.get(ctx.tx, tid, lock=True)
    me = ctx.person.id if ctx.person else None
    if ticket is None or ticket.assignee_id != me or not may_go_remote(ticket):
        raise StaleAction(number=tickets.number(tid), reset=True)
    return ticket


async def ask(ctx: Ctx, ticket: Ticket, plan: str) -> None:
    """Put the plan to the reporter; a request before it that is still open is superseded."""
    assert ctx.person is not None
    me = ctx.person
    found = requests(await tickets.events(ctx.tx, ticket.id or 0))
    n = len(found) + 1
    if found and not found[-1].answer:  # the older request's buttons say it was replaced
        await close_buttons(ctx, ticket, found[-1], lazy("consent.outcome.superseded"))
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    sent = None if reporter is None else await ctx.notify(
        reporter, "consent.request", answer_rows(ticket, n), name=me.name, plan=plan,
        number=number(ticket))
    ctx.set_state(IDLE)
    if reporter is None or sent is None:  # monitoring opened it, or the reporter blocked us
        await tickets.add_event(ctx.tx, ticket, Event.ASKED, ctx.now, me.id, n=n, plan=plan,
                                unreachable=True)
        await ctx.reply("consent.unreachable", on_site_rows(ticket, n), number=number(ticket))
        return
    await tickets.add_event(ctx.tx, ticket, Event.ASKED, ctx.now, me.id, n=n, plan=plan,
                            message=sent)
    await schedule(ctx, ticket, Due.REMIND, n)
    await timers.cancel(ctx.tx, timer_key(Due.LAPSE, ticket))  # an earlier request's
    paused = await clocks.pause(ctx, ticket, allowed=ctx.config.sla.consent_pauses)
    await ctx.reply("consent.asked", number=number(ticket), name=reporter.name,
                    minutes=ctx.config.consent_reminder_minutes,
                    paused=lazy("consent.clock_paused" if paused else "clock.paused_False"))


# ── the reporter: 同意 / 不同意, by button or in words ──────────────────────────────────────

def _reporter(ctx: Ctx, ticket: Ticket) -> Person:
    if ctx.person is None or ctx.person.id != ticket.reporter_id:
        raise NotAllowed("consent.not_reporter", number=number(ticket))
    return ctx.person


@router.ticket_button(Action.YES, arg=REQUEST)
async def agree(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    await answer(ctx, ticket, int(arg), agreed=True)


@router.ticket_button(Action.NO, arg=REQUEST)
async def decline(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    await answer(ctx, ticket, int(arg), agreed=False)


async def answer(ctx: Ctx, ticket: Ticket, n: int, *, agreed: bool) -> None:
    """The reporter's answer to request `n`: recorded once; the newest request only."""
    me = _reporter(ctx, ticket)
    found = requests(await tickets.events(ctx.tx, ticket.id or 0))
    asked = next((r for r in found if r.n == n), None)
    if asked is not None and asked.answer:
        raise StaleAction("consent.already", number=number(ticket),
                          answer=lazy(f"consent.answer.{asked.answer}"),
                          when=asked.answered_at or ctx.now)
    if asked is None:  # a number we never issued on this ticket
        raise BadButton()
    if asked is not found[-1]:
        raise StaleAction("consent.superseded", number=number(ticket))
    if waiting(ticket, found) is None:  # the job went on site, was handed over or closed
        raise StaleAction("consent.withdrawn", number=number(ticket))
    kind = Event.GIVEN if agreed else Event.REFUSED
    await tickets.add_event(ctx.tx, ticket, kind, ctx.now, me.id, n=n)
    await timers.cancel(ctx.tx, timer_key(Due.REMIND, ticket), timer_key(Due.LAPSE, ticket))
    await close_buttons(ctx, ticket, asked, lazy(f"consent.outcome.{kind}", when=ctx.now))
    if agreed:
        await _go_remote(ctx, ticket, asked, me)
    else:
        await _refused(ctx, ticket, asked, me)


async def _go_remote(ctx: Ctx, ticket: Ticket, asked: Request, me: Person) -> None:
    """As 远程处理 did before consent was asked: the job is in remote progress, by the
    engineer who asked."""
    fields = await start_remote(ctx, ticket, asked)
    await ctx.reply("consent.thanks_yes", **fields)
    engineer = await ctx.tx.get(Person, asked.engineer_id) if asked.engineer_id else None
    if engineer is not None:
        await ctx.notify(engineer, "consent.engineer_yes", work_buttons(ticket), name=me.name,
                         plan=asked.plan, **fields)


async def _refused(ctx: Ctx, ticket: Ticket, asked: Request, me: Person) -> None:
    await clocks.resume(ctx, ticket)  # a no ends the wait as a yes does
    fields = summary_fields(ctx, ticket)
    await ctx.reply("consent.thanks_no", **fields)
    engineer = await ctx.tx.get(Person, asked.engineer_id) if asked.engineer_id else None
    if engineer is not None:
        await ctx.notify(engineer, "consent.engineer_no", on_site_rows(ticket), name=me.name,
                         plan=asked.plan, **fields)


@router.idle_text
async def typed_answer(ctx: Ctx, text: str) -> bool:
    """同意 / 不同意 (yes / no) typed instead of pressed, while a request waits for them."""
    word = text.strip().rstrip(TRAILING).lower()
    if ctx.person is None or word not in YES_WORDS | NO_WORDS:
        return False
    mine = await tickets.open_tickets(ctx.tx, reporter_id=ctx.person.id)
    asked = [(t, found) for t in mine
             if (found := requests(await tickets.events(ctx.tx, t.id or 0)))]
    open_ones = [(t, r) for t, found in asked if (r := waiting(t, found)) is not None]
    if len(open_ones) > 1:  # which ticket? each request's own buttons say
        await ctx.reply("consent.which", _choices(open_ones))
        return True
    if open_ones:
        t, r = open_ones[0]
        await answer(ctx, await locked(ctx, t), r.n, agreed=word in YES_WORDS)
        return True
    if any(t.status == TicketStatus.WAITING_FOR_REPORTER for t in mine):
        return False  # an answer to the engineer's question (reporter.py), not to us
    answered = [(t, found[-1]) for t, found in asked if found[-1].answer]
    if answered:  # the same answer typed twice: say so rather than start a report "同意"
        t, r = answered[-1]
        await ctx.reply("consent.already", number=number(t),
                        answer=lazy(f"consent.answer.{r.answer}"), when=r.answered_at or ctx.now)
        return True
    return False


def _choices(open_ones: list[tuple[Ticket, Request]]) -> Rows:
    """同意 FL-000001 / 不同意 FL-000001, a row per ticket."""
    def cell(t: Ticket, r: Request, key: str, action: Action) -> Btn:
        return lazy(key, number=number(t)), tokens.ticket(t.id, action, r.n)

    return [[cell(t, r, "consent.button.yes_for", Action.YES),
             cell(t, r, "consent.button.no_for", Action.NO)] for t, r in open_ones]
