"""The reporter's side of an open job: confirm the fix, urge, add words, answer questions."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from handlers.core import logctx, tokens
from handlers.core.context import Ctx, Rows
from handlers.core.errors import NotAllowed, StaleAction
from handlers.core.router import Router
from handlers.core.texts import lazy
from handlers.flows import followup
from handlers.flows.engineer.keyboard import work_buttons
from handlers.flows.jobs import clocks, paging
from handlers.flows.jobs.status import move
from handlers.flows.jobs.summary import number, summary_fields, tell
from handlers.rules.lifecycle import OPEN
from storage import people, tickets
from storage.models import Person, Role, Ticket, TicketStatus

router = Router("reporter")
URGE_GAP = timedelta(minutes=30)
ROUND = r"(\d{1,12})?"  # the resolution a confirm button answers (none on buttons sent before)
MAX_CHOICES = 3


class Action(StrEnum):
    FIXED = "ok"
    NOT_FIXED = "notok"
    URGE = "urge"


class Event(StrEnum):
    CONFIRMED = "confirmed"
    URGED = "urged"
    NOTE = "note"


def urge_rows(ticket_id: int | None) -> Rows:
    return [[("button.urge", tokens.ticket(ticket_id, Action.URGE))]]


def resolution_round(ticket: Ticket) -> int:
    """Which resolution a 已解决 / 还没好 answers: a job reopened and resolved again asks anew,
    and the earlier round's buttons must not reopen it."""
    return int(ticket.resolved_at.timestamp()) if ticket.resolved_at else 0


def fixed_rows(ticket: Ticket) -> Rows:
    r = resolution_round(ticket)
    return [[("button.fixed", tokens.ticket(ticket.id, Action.FIXED, r)),
             ("button.not_fixed", tokens.ticket(ticket.id, Action.NOT_FIXED, r))]]


def reporter_of(ctx: Ctx, ticket: Ticket) -> None:
    if ctx.person is None or ctx.person.id != ticket.reporter_id:
        raise NotAllowed("error.not_reporter", number=number(ticket))


def resolved_for_reporter(ctx: Ctx, ticket: Ticket) -> None:
    reporter_of(ctx, ticket)
    if ticket.status != TicketStatus.RESOLVED:
        raise StaleAction(number=number(ticket))


def _this_round(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    """The question answered is the current one ("" = a button sent before rounds existed),
    and it has not been answered yet."""
    if arg and int(arg) != resolution_round(ticket):
        raise StaleAction(number=number(ticket))
    if ticket.confirmed_at is not None:
        raise StaleAction("error.already_confirmed", number=number(ticket))


@router.ticket_button(Action.FIXED, arg=ROUND, guards=[resolved_for_reporter])
async def confirm_fixed(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    """Confirmed: the job stays resolved until the follow-up call-back closes it."""
    assert ctx.person is not None
    me = ctx.person
    _this_round(ctx, ticket, arg)
    ticket.confirmed_at = ctx.now
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, Event.CONFIRMED, ctx.now, me.id)
    await followup.confirmed(ctx, ticket)
    fields = summary_fields(ctx, ticket)
    await ctx.reply("reporter.thanks_closed", followup_hours=ctx.config.followup_delay_hours,
                    **fields)
    await tell(ctx, ticket.assignee_id, "engineer.confirmed", name=me.name, **fields)


@router.ticket_button(Action.NOT_FIXED, arg=ROUND, guards=[resolved_for_reporter])
async def not_fixed(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    """Reopen to the same engineer with the resolution clock started again."""
    assert ctx.person is not None
    me = ctx.person
    _this_round(ctx, ticket, arg)
    await move(ctx.tx, ticket, TicketStatus.REOPENED, ctx.now, me.id)
    ticket.resolved_at = ticket.confirmed_at = None
    await followup.cancel(ctx, ticket)
    await clocks.restart_resolution(ctx, ticket)
    fields = summary_fields(ctx, ticket)
    await ctx.reply("reporter.reopened", **fields)
    engineer = await ctx.tx.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    if engineer:
        await ctx.notify(engineer, "engineer.reopened", work_buttons(ticket),
                         name=me.name, **fields)


@router.ticket_button(Action.URGE, guards=[reporter_of])
async def urge(ctx: Ctx, ticket: Ticket, arg: str = "") -> None:
    """催单: ping whoever holds the job (or is being paged), at most once per 30 minutes."""
    assert ctx.person is not None
    if ticket.status not in OPEN:
        raise StaleAction(number=number(ticket))
    urged = [e.at for e in await tickets.events(ctx.tx, ticket.id or 0)
             if e.kind == Event.URGED]
    fields = summary_fields(ctx, ticket)
    if urged and ctx.now - max(urged) < URGE_GAP:
        await ctx.reply("reporter.urge_wait", next=max(urged) + URGE_GAP, **fields)
        return
    await tickets.add_event(ctx.tx, ticket, Event.URGED, ctx.now, ctx.person.id)
    for person in await _holders(ctx, ticket):
        await ctx.notify(person, "engineer.urged", name=ctx.person.name, **fields)
    await ctx.reply("reporter.urged", **fields)


async def _holders(ctx: Ctx, ticket: Ticket) -> list[Person]:
    if ticket.assignee_id is not None:
        person = await ctx.tx.get(Person, ticket.assignee_id)
        return [person] if person else []
    paged = [await ctx.tx.get(Person, p.person_id) for p in await paging.pending(ctx, ticket)]
    managers = await people.managers_for(ctx.tx, ticket.site)
    return [p for p in paged if p is not None] + managers


@router.command("urge")
@router.on_words("催单", "催一下", "催", "urge", "hurry")
async def urge_latest(ctx: Ctx, text: str) -> None:
    """The word 催单 with no button: urge the only open ticket, or ask which one."""
    mine = await open_of(ctx)
    if not mine:
        await ctx.reply("status.none")
    elif len(mine) == 1:
        await urge(ctx, await locked(ctx, mine[0]))
    else:
        rows = [[(lazy("button.urge_ticket", number=number(t)),
                  tokens.ticket(t.id, Action.URGE))] for t in mine[-MAX_CHOICES:]]
        await ctx.reply("reporter.which_ticket", rows)


async def add_note(ctx: Ctx, ticket: Ticket, text: str) -> None:
    """More words for an open job, or one fixed but not closed yet: recorded, forwarded; an
    awaited answer restarts the clock."""
    if ctx.person is None or ctx.person.id != ticket.reporter_id or (
            ticket.status not in OPEN and ticket.status != TicketStatus.RESOLVED):
        raise StaleAction(number=number(ticket))
    limit = ctx.config.max_message_chars
    note = text.strip()[:limit]
    await tickets.add_event(ctx.tx, ticket, Event.NOTE, ctx.now, ctx.person.id, text=note)
    if ticket.status == TicketStatus.WAITING_FOR_REPORTER:
        await move(ctx.tx, ticket, TicketStatus.IN_PROGRESS, ctx.now, ctx.person.id,
                   answered=True)
        await clocks.resume(ctx, ticket)
    fields = summary_fields(ctx, ticket)
    if len(text.strip()) > limit:
        await ctx.reply("intake.kept_first", limit=limit)
    await ctx.reply("reporter.note_added", **fields)
    if ticket.assignee_id is not None:
        engineer = await ctx.tx.get(Person, ticket.assignee_id)
        if engineer is not None:
            # a fixed job's note is for reading: its work buttons would all be stale
            rows = work_buttons(ticket) if ticket.status in OPEN else ()
            await ctx.notify(engineer, "engineer.note", rows, name=ctx.person.name, note=note,
                             **fields)


@router.idle_text
async def answer_question(ctx: Ctx, text: str) -> bool:
    """Idle text from a reporter whose engineer asked a question: it is the answer."""
    if ctx.person is None or ctx.person.role != Role.REPORTER:
        return False
    waiting = [t for t in await open_of(ctx) if t.status == TicketStatus.WAITING_FOR_REPORTER]
    if not waiting:
        return False
    await add_note(ctx, await locked(ctx, waiting[-1]), text)
    return True


async def open_of(ctx: Ctx) -> list[Ticket]:
    """The open tickets the person writing reported."""
    if ctx.person is None:
        return []
    return await tickets.open_tickets(ctx.tx, reporter_id=ctx.person.id)


async def current_of(ctx: Ctx) -> list[Ticket]:
    """The open tickets the person writing reported, and theirs fixed but not closed yet."""
    if ctx.person is None or ctx.person.id is None:
        return []
    return await tickets.current_of_reporter(ctx.tx, ctx.person.id)


async def locked(ctx: Ctx, ticket: Ticket) -> Ticket:
    found = await tickets.get(ctx.tx, ticket.id or 0, lock=True)
    assert found is not None
    logctx.ticket(found.id)
    return found
