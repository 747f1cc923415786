"""Routing: who is paged for a ticket, and what happens when nobody answers.

The best on-duty engineer not yet asked is paged with Accept / Decline and an ack timeout
(per priority). A timeout pages the next one *as well* (the first may still accept); a
decline pages the next one if nobody else is still being asked. When nobody is left, the
service managers are told once. Whoever accepts first gets the job (the ticket row is
locked); every other open page is edited to say who took it.
"""

from __future__ import annotations

from enum import StrEnum

from handlers.core import tokens
from handlers.core.context import Ctx
from handlers.core.errors import StaleAction
from handlers.core.router import Router
from handlers.flows.alarms import links
from handlers.flows.engineer.keyboard import work_buttons
from handlers.flows.jobs import clocks, duty
from handlers.flows.jobs.status import move
from handlers.flows.jobs.summary import (
    STAFF,
    attachment_files,
    attachments,
    listing,
    number,
    summary_fields,
    tell,
    tell_managers,
    voices,
)
from storage import people, tickets, timers
from storage.models import Page, PageState, Person, Ticket, TicketStatus, Timer

router = Router("paging")
PAGEABLE = (TicketStatus.NEW, TicketStatus.PAGED)


class Action(StrEnum):
    ACCEPT = "ack"
    DECLINE = "decline"


class Due(StrEnum):
    ACK_TIMEOUT = "ack_timeout"


class Event(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ACK_TIMEOUT = "ack_timeout"
    UNASSIGNED = "unassigned"


async def candidates(ctx: Ctx, ticket: Ticket) -> list[Person]:
    """On-duty engineers not yet paged for this ticket, best first: those on shift at the
    ticket's site by the rota (jobs/duty.py), then everyone else on duty now.

    Best = has the skill for the category, works at the ticket's site, holds fewest open jobs.
    """
    already = {p.person_id for p in await tickets.pages(ctx.tx, ticket.id or 0)}
    on_shift, others = await duty.available(ctx, ticket.site)
    pool = [p for p in on_shift + others if p.id not in already]
    load = await people.open_job_counts(ctx.tx, [p.id for p in pool if p.id is not None])

    def rank(p: Person) -> tuple[int, int, int, int]:
        skilled = ticket.category in (p.skills or [])
        local = bool(ticket.site) and p.site == ticket.site
        return (not skilled, not local, load.get(p.id or 0, 0), p.id or 0)

    here = {p.id for p in on_shift}
    return sorted((p for p in pool if p.id in here), key=rank) \
        + sorted((p for p in pool if p.id not in here), key=rank)


async def page_next(ctx: Ctx, ticket: Ticket) -> Person | None:
    """Page the best engineer not yet asked; when none is left, tell the service managers."""
    for engineer in await candidates(ctx, ticket):
        if await _page(ctx, ticket, engineer):
            return engineer
    if not any(e.kind == Event.UNASSIGNED for e in await tickets.events(ctx.tx, ticket.id or 0)):
        await tickets.add_event(ctx.tx, ticket, Event.UNASSIGNED, ctx.now)
        await tell_managers(ctx, "manager.nobody", ticket)
    return None


async def _page(ctx: Ctx, ticket: Ticket, engineer: Person) -> bool:
    key = ctx.next_key()
    tid = ticket.id or 0
    rows = [[("button.accept", tokens.ticket(tid, Action.ACCEPT)),
             ("button.decline", tokens.ticket(tid, Action.DECLINE))]]
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    timeout = ctx.config.sla.ack_timeout(ticket.priority)
    fields = {
        **summary_fields(ctx, ticket), "reporter": reporter.name if reporter else "-",
        "phone": (reporter.phone if reporter else "") or "-",
        **await links.page_fields(ctx, ticket, reporter),  # an alarm's device and history
    }
    sent = await ctx.notify(
        engineer, "engineer.page", rows, key=key, **fields,
        ack_minutes=timeout.total_seconds() / 60, attachments=attachments(ticket),
    )
    page = Page(ticket_id=tid, person_id=engineer.id or 0, message_key=key, at=ctx.now)
    if sent is None:  # cannot reach them: record it and try the next one
        page.state, page.answered_at = str(PageState.DECLINED), ctx.now
        ctx.tx.add(page)
        return False
    ctx.tx.add(page)
    await ctx.tx.flush()
    await timers.schedule(ctx.tx, f"ack:{tid}:{page.id}", Due.ACK_TIMEOUT, ctx.now + timeout,
                          ticket_id=tid, payload={"page": page.id})
    if ticket.status in PAGEABLE:
        await move(ctx.tx, ticket, TicketStatus.PAGED, ctx.now, None, engineer_id=engineer.id)
    return True


async def pending(ctx: Ctx, ticket: Ticket) -> list[Page]:
    return [p for p in await tickets.pages(ctx.tx, ticket.id or 0)
            if p.state == PageState.PENDING]


@router.ticket_timer(Due.ACK_TIMEOUT, only_open=True)
async def ack_timed_out(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    """Nobody answered this page in time: bring in the next engineer too."""
    page = await ctx.tx.get(Page, int(timer.payload.get("page", 0)))
    if page is None or page.state != PageState.PENDING or ticket.status not in PAGEABLE:
        return
    await tickets.add_event(ctx.tx, ticket, Event.ACK_TIMEOUT, ctx.now, None,
                            engineer_id=page.person_id)
    await page_next(ctx, ticket)


@router.ticket_button(Action.ACCEPT, roles=STAFF)
async def accept(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    assert ctx.person is not None
    me = ctx.person
    if ticket.assignee_id == me.id:
        raise StaleAction("error.already_yours", number=number(ticket))
    if ticket.assignee_id is not None:
        taker = await ctx.tx.get(Person, ticket.assignee_id)
        raise StaleAction("error.taken", number=number(ticket), name=taker.name if taker else "-")
    page = await tickets.pending_page(ctx.tx, ticket.id or 0, me.id or 0)
    if page is None or ticket.status not in PAGEABLE:
        raise StaleAction(number=number(ticket))
    await move(ctx.tx, ticket, TicketStatus.ACKNOWLEDGED, ctx.now, me.id)
    ticket.assignee_id, ticket.responded_at = me.id, ctx.now
    page.state, page.answered_at = str(PageState.ACCEPTED), ctx.now
    ctx.tx.add(page)
    await tickets.add_event(ctx.tx, ticket, Event.ACCEPTED, ctx.now, me.id)
    await clocks.responded(ctx, ticket)
    await timers.cancel_for_ticket(ctx.tx, ticket.id or 0, [Due.ACK_TIMEOUT])
    await _close_other_pages(ctx, ticket, me)
    fields = summary_fields(ctx, ticket)
    await ctx.edit(page.message_key, me, "engineer.page_taken_by_you", **fields)
    await ctx.reply("engineer.accepted", work_buttons(ticket), **fields)
    await tell(ctx, ticket.reporter_id, "reporter.accepted", name=me.name,
               phone=me.phone or "-", **fields)
    await hand_over_attachments(ctx, ticket, me)


async def hand_over_attachments(ctx: Ctx, ticket: Ticket, engineer: Person) -> None:
    """The photos and location sent with the report reach whoever took the job."""
    files = attachment_files(ticket)
    if files:
        spoken = voices(ticket.attachments)  # photos alone keep their own words
        await ctx.notify(engineer, "voice.handed_over" if spoken else "engineer.attachments",
                         files=files, number=number(ticket), count=len(files),
                         list=listing(ticket.attachments))
    if ticket.location:
        lat, lon = ticket.location[0], ticket.location[1]
        await ctx.notify(engineer, "engineer.reported_location", number=number(ticket),
                         lat=lat, lon=lon)


async def _close_other_pages(ctx: Ctx, ticket: Ticket, taker: Person) -> None:
    for page in await pending(ctx, ticket):
        if page.person_id == taker.id:
            continue
        page.state, page.answered_at = str(PageState.SUPERSEDED), ctx.now
        ctx.tx.add(page)
        other = await ctx.tx.get(Person, page.person_id)
        if other:
            await ctx.edit(page.message_key, other, "engineer.page_taken",
                           number=number(ticket), name=taker.name)


@router.ticket_button(Action.DECLINE, roles=STAFF)
async def decline(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    assert ctx.person is not None
    me = ctx.person
    page = await tickets.pending_page(ctx.tx, ticket.id or 0, me.id or 0)
    if page is None or ticket.status not in PAGEABLE:
        raise StaleAction(number=number(ticket))
    page.state, page.answered_at = str(PageState.DECLINED), ctx.now
    ctx.tx.add(page)
    await tickets.add_event(ctx.tx, ticket, Event.DECLINED, ctx.now, me.id)
    await ctx.edit(page.message_key, me, "engineer.page_declined", number=number(ticket))
    await ctx.reply("engineer.declined", number=number(ticket))
    if not [p for p in await pending(ctx, ticket) if p.id != page.id]:
        await page_next(ctx, ticket)
