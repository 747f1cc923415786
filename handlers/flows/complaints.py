"""Complaints (投诉): a supervision channel straight to the service manager, with its own
clock — acknowledged within 24 h, resolved within 7 working days — a reminder before each
deadline, and the complainant told at each step.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from handlers.core import logctx, tokens
from handlers.core.context import IDLE, Ctx, Rows
from handlers.core.errors import NotAllowed, StaleAction
from handlers.core.router import Router
from handlers.core.texts import Lazy, lazy
from handlers.flows import admission
from handlers.flows.jobs import sites
from handlers.flows.jobs.summary import MANAGERS
from storage import people, tickets, timers
from storage.models import Complaint, ComplaintState, Person, Ticket, Timer

router = Router("complaints")
REMIND_AT = 0.75  # of each window
SCOPE = "k"  # a manager's buttons on a complaint: k:<complaint id>:<action>


class Action(StrEnum):
    ABOUT = "about"  # which ticket (arg: its id; 0 = the service as a whole)
    ACK = "ack"
    DONE = "done"


class State(StrEnum):
    ABOUT = "complaint_about"  # which ticket (or the service) a complaint is about
    TEXT = "complaint_text"  # … and what it says
    HANDLING = "mgr_complaint"  # a manager typing how a complaint was resolved


class Due(StrEnum):
    ACK_REMINDER = "complaint_ack_reminder"
    RESOLVE_REMINDER = "complaint_resolve_reminder"
    ACK_OVERDUE = "complaint_ack_overdue"
    RESOLVE_OVERDUE = "complaint_resolve_overdue"


ACK_CLOCK = (Due.ACK_REMINDER, Due.ACK_OVERDUE)


class Event(StrEnum):
    COMPLAINT = "complaint"


@dataclass
class Filing:
    """A complaint being written: the dialogue's nonce, then the ticket it is about."""

    n: str = ""
    ticket: int | None = None


@dataclass
class Handling:
    complaint: int = 0


router.cancellable((State.ABOUT, State.TEXT), "command.cancel_complaint")
router.cancellable((State.HANDLING,), "command.cancel_resolving")


def number(complaint: Complaint) -> str:
    return f"C-{complaint.id:05d}"


@router.command("complain", registered=True)
@router.on_words("投诉", "我要投诉", "complaint", "complain")
async def start(ctx: Ctx, text: str) -> None:
    """Ask what the complaint is about: one of the person's tickets, or the service."""
    assert ctx.person is not None
    if not await admission.admitted(ctx):
        return
    nonce = secrets.token_hex(3)
    mine = await tickets.recent_of(ctx.tx, ctx.person.id or 0, limit=3)
    rows: list[list[tuple[str | Lazy, str]]] = [
        [(lazy("button.about_ticket", number=tickets.number(t.id or 0)),
          tokens.dialogue(nonce, Action.ABOUT, t.id))] for t in mine
    ]
    rows.append([("button.about_service", tokens.dialogue(nonce, Action.ABOUT, 0))])
    ctx.set_state(State.ABOUT, Filing(n=nonce))
    await ctx.reply("complaint.about", rows)


@router.dialogue_button(Action.ABOUT, State.ABOUT, arg=r"\d{1,10}", legacy=r"cmp_(\d{1,10})")
async def about(ctx: Ctx, arg: str) -> None:
    """The complaint is about one of the person's own tickets, or the service (0); the id is
    checked (the button could be forged)."""
    ticket_id = int(arg)
    if ticket_id and not await _own_ticket(ctx, ticket_id):
        raise NotAllowed("error.not_your_ticket")
    ctx.set_state(State.TEXT, Filing(n=ctx.data(Filing).n, ticket=ticket_id or None))
    await ctx.reply("complaint.ask_text")


async def _own_ticket(ctx: Ctx, ticket_id: int) -> bool:
    ticket = await ctx.tx.get(Ticket, ticket_id)
    return ticket is not None and ctx.person is not None \
        and ticket.reporter_id == ctx.person.id


@router.text(State.ABOUT)
async def about_the_service(ctx: Ctx, text: str) -> None:
    """Wrote the complaint straight away instead of choosing: it is about the service."""
    ctx.set_state(State.TEXT, Filing(n=ctx.data(Filing).n))
    await ctx.reply("complaint.ask_text")
    await submit(ctx, text)


@router.text(State.TEXT)
async def submit(ctx: Ctx, text: str) -> None:
    assert ctx.person is not None
    ticket_id = ctx.data(Filing).ticket
    cfg, now = ctx.config, ctx.now
    complaint = Complaint(
        person_id=ctx.person.id or 0, ticket_id=ticket_id, text=text.strip()[:2000],
        created_at=now, ack_due=now + timedelta(hours=cfg.complaint_ack_hours),
        resolve_due=cfg.sla.working.add_days(now, cfg.complaint_resolve_working_days),
    )
    ctx.tx.add(complaint)
    await ctx.tx.flush()
    ctx.set_state(IDLE)
    await _schedule(ctx, complaint)
    ticket = await ctx.tx.get(Ticket, ticket_id) if ticket_id else None
    if ticket is not None:
        logctx.ticket(ticket.id)
        await tickets.add_event(ctx.tx, ticket, Event.COMPLAINT, now, ctx.person.id,
                                complaint=complaint.id)
    fields = _fields(ctx, complaint, ticket)
    await ctx.reply("complaint.received", **fields)
    for manager in await people.managers_for(ctx.tx, await _site(ctx, complaint)):
        await ctx.notify(manager, "complaint.to_manager", _manager_rows(complaint), **fields,
                         name=ctx.person.name, text=complaint.text)


def _manager_rows(complaint: Complaint) -> Rows:
    def k(action: Action) -> str:
        return tokens.encode(SCOPE, complaint.id or 0, action)

    done = ("button.complaint_done", k(Action.DONE))
    if complaint.state != ComplaintState.OPEN:  # acknowledged: only 办结 is left to press
        return [[done]]
    return [[("button.complaint_ack", k(Action.ACK)), done]]


def _fields(ctx: Ctx, complaint: Complaint, ticket: Ticket | None) -> dict[str, Any]:
    about = tickets.number(ticket.id or 0) if ticket else lazy("complaint.the_service")
    return {"number": number(complaint), "about": about, "ack_due": complaint.ack_due,
            "resolve_due": complaint.resolve_due}


async def _schedule(ctx: Ctx, c: Complaint) -> None:
    """Per clock a reminder at 75 % and a notice when it has passed, both outside the quiet
    hours (a reminder never later than its deadline)."""
    later = ctx.config.after_quiet_hours
    for remind, overdue, due in ((Due.ACK_REMINDER, Due.ACK_OVERDUE, c.ack_due),
                                 (Due.RESOLVE_REMINDER, Due.RESOLVE_OVERDUE, c.resolve_due)):
        at = min(later(c.created_at + (due - c.created_at) * REMIND_AT), due)
        await timers.schedule(ctx.tx, f"{remind}:{c.id}", remind, at,
                              payload={"complaint": c.id})
        await timers.schedule(ctx.tx, f"{overdue}:{c.id}", overdue, later(due),
                              payload={"complaint": c.id})


async def _unresolved(ctx: Ctx, complaint_id: int) -> Complaint:
    complaint = await ctx.tx.get(Complaint, complaint_id)
    if complaint is None or complaint.state == ComplaintState.RESOLVED:
        raise StaleAction("complaint.closed")
    assert ctx.person is not None
    if not await sites.reaches(ctx.tx, ctx.person, await _site(ctx, complaint)):
        raise NotAllowed("sites.not_your_complaint", number=number(complaint))
    return complaint


async def _site(ctx: Ctx, complaint: Complaint) -> str:
    """Where a complaint belongs: its ticket's site, else the complainant's."""
    ticket = await ctx.tx.get(Ticket, complaint.ticket_id) if complaint.ticket_id else None
    person = await ctx.tx.get(Person, complaint.person_id) if ticket is None else None
    return ticket.site if ticket else person.site if person else ""


@router.record_button(SCOPE, Action.DONE, roles=MANAGERS)
async def ask_resolution(ctx: Ctx, complaint_id: int, arg: str) -> None:
    complaint = await _unresolved(ctx, complaint_id)
    ctx.set_state(State.HANDLING, Handling(complaint=complaint.id or 0))
    await ctx.reply("complaint.ask_resolution", number=number(complaint))


@router.record_button(SCOPE, Action.ACK, roles=MANAGERS)
async def acknowledge(ctx: Ctx, complaint_id: int, arg: str) -> None:
    complaint = await _unresolved(ctx, complaint_id)
    if complaint.state != ComplaintState.OPEN:
        raise StaleAction("complaint.already_ack", number=number(complaint))
    assert ctx.person is not None
    complaint.state, complaint.acknowledged_at = str(ComplaintState.ACKNOWLEDGED), ctx.now
    complaint.handler_id = ctx.person.id
    ctx.tx.add(complaint)
    await timers.cancel(ctx.tx, *(f"{kind}:{complaint.id}" for kind in ACK_CLOCK))
    fields = _fields(ctx, complaint, None)
    await ctx.reply("complaint.acked_manager", _manager_rows(complaint), **fields)
    await _tell_complainant(ctx, complaint, "complaint.acked", name=ctx.person.name, **fields)


@router.text(State.HANDLING)
async def resolve_text(ctx: Ctx, text: str) -> None:
    assert ctx.person is not None
    complaint = await ctx.tx.get(Complaint, ctx.data(Handling).complaint)
    ctx.set_state(IDLE)
    if complaint is None or complaint.state == ComplaintState.RESOLVED:
        raise StaleAction("complaint.closed")
    complaint.acknowledged_at = complaint.acknowledged_at or ctx.now
    complaint.state, complaint.resolved_at = str(ComplaintState.RESOLVED), ctx.now
    complaint.resolution, complaint.handler_id = text.strip()[:2000], ctx.person.id
    ctx.tx.add(complaint)
    await timers.cancel(ctx.tx, *(f"{kind}:{complaint.id}" for kind in Due))
    fields = _fields(ctx, complaint, None)
    await ctx.reply("complaint.resolved_manager", **fields)
    await _tell_complainant(ctx, complaint, "complaint.resolved", resolution=complaint.resolution,
                            name=ctx.person.name, **fields)


@router.timer(Due.ACK_REMINDER)
async def remind_ack(ctx: Ctx, timer: Timer) -> None:
    await _remind(ctx, int(timer.payload.get("complaint", 0)), ack=True)


@router.timer(Due.RESOLVE_REMINDER)
async def remind_resolve(ctx: Ctx, timer: Timer) -> None:
    await _remind(ctx, int(timer.payload.get("complaint", 0)), ack=False)


@router.timer(Due.ACK_OVERDUE)
async def ack_overdue(ctx: Ctx, timer: Timer) -> None:
    await _remind(ctx, int(timer.payload.get("complaint", 0)), ack=True, overdue=True)


@router.timer(Due.RESOLVE_OVERDUE)
async def resolve_overdue(ctx: Ctx, timer: Timer) -> None:
    await _remind(ctx, int(timer.payload.get("complaint", 0)), ack=False, overdue=True)


async def _remind(ctx: Ctx, complaint_id: int, *, ack: bool, overdue: bool = False) -> None:
    complaint = await ctx.tx.get(Complaint, complaint_id)
    if complaint is None or complaint.state == ComplaintState.RESOLVED:
        return
    if ack and complaint.state != ComplaintState.OPEN:
        return
    fields = _fields(ctx, complaint, None)
    key = {(True, False): "complaint.remind_ack", (False, False): "complaint.remind_resolve",
           (True, True): "complaint.ack_overdue",
           (False, True): "complaint.resolve_overdue"}[(ack, overdue)]
    for manager in await people.managers_for(ctx.tx, await _site(ctx, complaint)):
        await ctx.notify(manager, key, _manager_rows(complaint), **fields, text=complaint.text)


async def _tell_complainant(ctx: Ctx, complaint: Complaint, key: str, **fields: Any) -> None:
    person = await ctx.tx.get(Person, complaint.person_id)
    if person is not None:
        await ctx.notify(person, key, **fields)
