"""Complaints (投诉): a supervision channel straight to the service manager, with its own
clock — acknowledged within 24 h, resolved within 7 working days — a reminder before each
deadline, and the complainant told at each step.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from handlers import buttons, logctx
from handlers.context import Ctx, Rows
from handlers.errors import NotAllowed, StaleAction
from handlers.states import State
from handlers.texts import Lazy, lazy
from storage import people, tickets, timers
from storage.models import Complaint, ComplaintState, Person, Role, Ticket

WORDS = frozenset({"投诉", "我要投诉", "complaint", "complain"})
MANAGERS = (Role.MANAGER, Role.ADMIN)
REMIND_AT = 0.75  # of each window


def number(complaint: Complaint) -> str:
    return f"C-{complaint.id:05d}"


async def start(ctx: Ctx) -> None:
    """Ask what the complaint is about: one of the person's tickets, or the service."""
    if ctx.person is None:
        raise NotAllowed()
    nonce = secrets.token_hex(3)
    mine = await tickets.recent_of(ctx.tx, ctx.person.id or 0, limit=3)
    rows: list[list[tuple[str | Lazy, str]]] = [
        [(lazy("button.about_ticket", number=tickets.number(t.id or 0)),
          buttons.intake(nonce, f"cmp_{t.id}"))] for t in mine
    ]
    rows.append([("button.about_service", buttons.intake(nonce, "cmp_0"))])
    ctx.set_state(State.COMPLAINT_ABOUT, n=nonce)
    await ctx.reply("complaint.about", rows)


async def about(ctx: Ctx, ticket_id: int) -> None:
    ctx.set_state(State.COMPLAINT_TEXT, ticket=ticket_id or None)
    await ctx.reply("complaint.ask_text")


async def submit(ctx: Ctx, text: str) -> None:
    assert ctx.conv is not None and ctx.person is not None
    ticket_id = ctx.conv.data.get("ticket")
    cfg, now = ctx.config, ctx.now
    complaint = Complaint(
        person_id=ctx.person.id or 0, ticket_id=ticket_id, text=text.strip()[:2000],
        created_at=now, ack_due=now + timedelta(hours=cfg.complaint_ack_hours),
        resolve_due=cfg.sla.working.add_days(now, cfg.complaint_resolve_working_days),
    )
    ctx.tx.add(complaint)
    await ctx.tx.flush()
    ctx.set_state(State.IDLE)
    await _schedule(ctx, complaint)
    ticket = await ctx.tx.get(Ticket, ticket_id) if ticket_id else None
    if ticket is not None:
        logctx.ticket(ticket.id)
        await tickets.add_event(ctx.tx, ticket, "complaint", now, ctx.person.id,
                                complaint=complaint.id)
    fields = _fields(ctx, complaint, ticket)
    await ctx.reply("complaint.received", **fields)
    for manager in await people.people_with_roles(ctx.tx, (Role.MANAGER,)):
        await ctx.notify(manager, "complaint.to_manager", _manager_rows(complaint), **fields,
                         name=ctx.person.name, text=complaint.text)


def _manager_rows(complaint: Complaint) -> Rows:
    k = f"k:{complaint.id}:"
    return [[("button.complaint_ack", k + "ack"), ("button.complaint_done", k + "done")]]


def _fields(ctx: Ctx, complaint: Complaint, ticket: Ticket | None) -> dict[str, Any]:
    about = tickets.number(ticket.id or 0) if ticket else lazy("complaint.the_service")
    return {"number": number(complaint), "about": about, "ack_due": complaint.ack_due,
            "resolve_due": complaint.resolve_due}


async def _schedule(ctx: Ctx, c: Complaint) -> None:
    for kind, due in (("complaint_ack_reminder", c.ack_due),
                      ("complaint_resolve_reminder", c.resolve_due)):
        at = c.created_at + (due - c.created_at) * REMIND_AT
        await timers.schedule(ctx.tx, f"{kind}:{c.id}", kind, at, payload={"complaint": c.id})


async def on_button(ctx: Ctx, token: buttons.Token) -> None:
    if ctx.person is None or ctx.person.role not in MANAGERS:
        raise NotAllowed()
    complaint = await ctx.tx.get(Complaint, int(token.ref))
    if complaint is None or complaint.state == ComplaintState.RESOLVED:
        raise StaleAction("complaint.closed")
    if token.action == "ack":
        await acknowledge(ctx, complaint)
    else:
        ctx.set_state(State.MGR_COMPLAINT, complaint=complaint.id)
        await ctx.reply("complaint.ask_resolution", number=number(complaint))


async def acknowledge(ctx: Ctx, complaint: Complaint) -> None:
    if complaint.state != ComplaintState.OPEN:
        raise StaleAction("complaint.already_ack", number=number(complaint))
    assert ctx.person is not None
    complaint.state, complaint.acknowledged_at = str(ComplaintState.ACKNOWLEDGED), ctx.now
    complaint.handler_id = ctx.person.id
    ctx.tx.add(complaint)
    await timers.cancel(ctx.tx, f"complaint_ack_reminder:{complaint.id}")
    fields = _fields(ctx, complaint, None)
    await ctx.reply("complaint.acked_manager", **fields)
    await _tell_complainant(ctx, complaint, "complaint.acked", name=ctx.person.name, **fields)


async def resolve_text(ctx: Ctx, text: str) -> None:
    assert ctx.conv is not None and ctx.person is not None
    complaint = await ctx.tx.get(Complaint, int(ctx.conv.data.get("complaint", 0)))
    ctx.set_state(State.IDLE)
    if complaint is None or complaint.state == ComplaintState.RESOLVED:
        raise StaleAction("complaint.closed")
    complaint.acknowledged_at = complaint.acknowledged_at or ctx.now
    complaint.state, complaint.resolved_at = str(ComplaintState.RESOLVED), ctx.now
    complaint.resolution, complaint.handler_id = text.strip()[:2000], ctx.person.id
    ctx.tx.add(complaint)
    await timers.cancel(ctx.tx, f"complaint_ack_reminder:{complaint.id}",
                        f"complaint_resolve_reminder:{complaint.id}")
    fields = _fields(ctx, complaint, None)
    await ctx.reply("complaint.resolved_manager", **fields)
    await _tell_complainant(ctx, complaint, "complaint.resolved", resolution=complaint.resolution,
                            name=ctx.person.name, **fields)


async def remind(ctx: Ctx, complaint_id: int, kind: str) -> None:
    complaint = await ctx.tx.get(Complaint, complaint_id)
    if complaint is None or complaint.state == ComplaintState.RESOLVED:
        return
    if kind == "complaint_ack_reminder" and complaint.state != ComplaintState.OPEN:
        return
    fields = _fields(ctx, complaint, None)
    ack = kind == "complaint_ack_reminder"
    key = "complaint.remind_ack" if ack else "complaint.remind_resolve"
    for manager in await people.people_with_roles(ctx.tx, (Role.MANAGER,)):
        await ctx.notify(manager, key, _manager_rows(complaint), **fields, text=complaint.text)


async def _tell_complainant(ctx: Ctx, complaint: Complaint, key: str, **fields: Any) -> None:
    person = await ctx.tx.get(Person, complaint.person_id)
    if person is not None:
        await ctx.notify(person, key, **fields)
