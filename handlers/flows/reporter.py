"""The reporter's side of an open job: confirm the fix, urge, add words, answer questions."""

from __future__ import annotations

import secrets
from datetime import timedelta

from handlers import buttons, clocks, followup, lifecycle, logctx, paging
from handlers.context import Ctx
from handlers.engineer import work_buttons
from handlers.errors import NotAllowed, StaleAction
from handlers.jobs import summary_fields
from handlers.states import State
from handlers.texts import Lazy, lazy
from storage import people, tickets, timers
from storage.models import Person, Role, Ticket, TicketStatus


def _reporter(ctx: Ctx, ticket: Ticket) -> Person:
    if ctx.person is None or ctx.person.id != ticket.reporter_id:
        raise NotAllowed("error.not_reporter", number=tickets.number(ticket.id or 0))
    if ticket.status != TicketStatus.RESOLVED:
        raise StaleAction(number=tickets.number(ticket.id or 0))
    return ctx.person


async def confirm_fixed(ctx: Ctx, ticket: Ticket) -> None:
    """Confirmed: the job stays resolved until the follow-up call-back closes it."""
    me = _reporter(ctx, ticket)
    if ticket.confirmed_at is not None:
        raise StaleAction("error.already_confirmed", number=tickets.number(ticket.id or 0))
    ticket.confirmed_at = ctx.now
    ctx.tx.add(ticket)
    await tickets.add_event(ctx.tx, ticket, "confirmed", ctx.now, me.id)
    await timers.cancel(ctx.tx, f"confirm_due:{ticket.id}")
    fields = summary_fields(ctx, ticket)
    await ctx.reply("reporter.thanks_closed", **fields)
    engineer = await ctx.tx.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    if engineer:
        await ctx.notify(engineer, "engineer.confirmed", name=me.name, **fields)


async def not_fixed(ctx: Ctx, ticket: Ticket) -> None:
    """Reopen to the same engineer with the resolution clock started again."""
    me = _reporter(ctx, ticket)
    await lifecycle.move(ctx.tx, ticket, TicketStatus.REOPENED, ctx.now, me.id)
    ticket.resolved_at = ticket.confirmed_at = None
    await followup.cancel(ctx, ticket)
    await clocks.restart_resolution(ctx, ticket)
    fields = summary_fields(ctx, ticket)
    await ctx.reply("reporter.reopened", **fields)
    engineer = await ctx.tx.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    if engineer:
        await ctx.notify(engineer, "engineer.reopened", work_buttons(ticket.id or 0),
                         name=me.name, **fields)


URGE_GAP = timedelta(minutes=30)
URGE_WORDS = frozenset({"催单", "催一下", "催", "urge", "hurry"})
MAX_CHOICES = 3


async def urge(ctx: Ctx, ticket: Ticket) -> None:
    """催单: ping whoever holds the job (or is being paged), at most once per 30 minutes."""
    if ctx.person is None or ctx.person.id != ticket.reporter_id:
        raise NotAllowed("error.not_reporter", number=tickets.number(ticket.id or 0))
    if ticket.status not in lifecycle.OPEN:
        raise StaleAction(number=tickets.number(ticket.id or 0))
    urged = [e.at for e in await tickets.events(ctx.tx, ticket.id or 0) if e.kind == "urged"]
    fields = summary_fields(ctx, ticket)
    if urged and ctx.now - max(urged) < URGE_GAP:
        await ctx.reply("reporter.urge_wait", next=max(urged) + URGE_GAP, **fields)
        return
    await tickets.add_event(ctx.tx, ticket, "urged", ctx.now, ctx.person.id)
    for person in await _holders(ctx, ticket):
        await ctx.notify(person, "engineer.urged", name=ctx.person.name, **fields)
    await ctx.reply("reporter.urged", **fields)


async def _holders(ctx: Ctx, ticket: Ticket) -> list[Person]:
    if ticket.assignee_id is not None:
        person = await ctx.tx.get(Person, ticket.assignee_id)
        return [person] if person else []
    paged = [await ctx.tx.get(Person, p.person_id) for p in await paging.pending(ctx, ticket)]
    managers = await people.people_with_roles(ctx.tx, (Role.MANAGER,))
    return [p for p in paged if p is not None] + managers


async def urge_latest(ctx: Ctx) -> None:
    """The word 催单 with no button: urge the only open ticket, or ask which one."""
    mine = await _open_mine(ctx)
    if not mine:
        await ctx.reply("status.none")
    elif len(mine) == 1:
        await urge(ctx, mine[0])
    else:
        rows = [[(lazy("button.urge_ticket", number=tickets.number(t.id or 0)),
                  buttons.ticket(t.id or 0, "urge"))] for t in mine[-MAX_CHOICES:]]
        await ctx.reply("reporter.which_ticket", rows)


async def add_note(ctx: Ctx, ticket: Ticket, text: str) -> None:
    """More words for an open job: recorded, forwarded; an awaited answer restarts the clock."""
    if ctx.person is None or ctx.person.id != ticket.reporter_id \
            or ticket.status not in lifecycle.OPEN:
        raise StaleAction(number=tickets.number(ticket.id or 0))
    note = text.strip()[: ctx.config.max_message_chars]
    await tickets.add_event(ctx.tx, ticket, "note", ctx.now, ctx.person.id, text=note)
    if ticket.status == TicketStatus.WAITING_FOR_REPORTER:
        await lifecycle.move(ctx.tx, ticket, TicketStatus.IN_PROGRESS, ctx.now, ctx.person.id,
                             answered=True)
        await clocks.resume(ctx, ticket)
    fields = summary_fields(ctx, ticket)
    await ctx.reply("reporter.note_added", **fields)
    if ticket.assignee_id is not None:
        engineer = await ctx.tx.get(Person, ticket.assignee_id)
        if engineer is not None:
            await ctx.notify(engineer, "engineer.note", work_buttons(ticket.id or 0),
                             name=ctx.person.name, note=note, **fields)


async def text_while_tickets_open(ctx: Ctx, text: str) -> bool:
    """Idle text from a reporter with open jobs: answer an awaited question, or ask where it
    belongs. False when there is no open job (the text starts a new report)."""
    mine = await _open_mine(ctx)
    waiting = [t for t in mine if t.status == TicketStatus.WAITING_FOR_REPORTER]
    if waiting:
        await add_note(ctx, await _locked(ctx, waiting[-1]), text)
        return True
    if not mine:
        return False
    nonce = secrets.token_hex(3)
    rows: list[list[tuple[str | Lazy, str]]] = [
        [(lazy("button.add_to", number=tickets.number(t.id or 0)),
          buttons.intake(nonce, f"add_{t.id}"))] for t in mine[-MAX_CHOICES:]
    ]
    rows.append([("button.new_fault", buttons.intake(nonce, "new"))])
    ctx.set_state(State.INTAKE_CHOICE, n=nonce, text=text[: ctx.config.max_message_chars])
    await ctx.reply("reporter.add_or_new", rows)
    return True


async def _open_mine(ctx: Ctx) -> list[Ticket]:
    if ctx.person is None:
        return []
    return await tickets.open_tickets(ctx.tx, reporter_id=ctx.person.id)


async def _locked(ctx: Ctx, ticket: Ticket) -> Ticket:
    locked = await tickets.get(ctx.tx, ticket.id or 0, lock=True)
    assert locked is not None
    logctx.ticket(locked.id)
    return locked
