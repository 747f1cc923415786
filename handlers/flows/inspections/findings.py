"""What an inspection found: each item answered 异常 and each number outside its normal range
becomes a ticket of its own — a normal one (clocks, paging) — reported by the engineer who
found it, naming the inspection, the item and the reading, and linked both ways (the
reading's ticket_id, the ticket's `inspection_finding` event)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers.core.context import Ctx
from handlers.core.texts import lazy
from handlers.flows.inspections.base import (
    Event,
    assignee,
    items,
    normal_range,
    plan_name,
    plan_of,
    shown_value,
)
from handlers.flows.jobs.opening import NewTicket, start_ticket
from handlers.rules.inspections import Item
from handlers.rules.triage import Impact
from storage import inspections, tickets
from storage.models import InspectionReading, InspectionRun, Ticket

CHANNEL = "inspection"  # Ticket.channel of the tickets an inspection opened


@dataclass(frozen=True)
class Finding:
    item: Item
    reading: InspectionReading
    ticket: Ticket | None


async def open_tickets(ctx: Ctx, run: InspectionRun) -> list[Finding]:
    """A ticket for every abnormal reading of the run that has none yet."""
    found: list[Finding] = []
    engineer = await assignee(ctx, run)
    plan = plan_of(ctx, run)
    by_key = {i.key: i for i in items(run)}
    for reading in await inspections.readings(ctx.tx, run.id or 0):
        item = by_key.get(reading.item_key)
        if reading.ok or item is None:
            continue
        ticket = await tickets.get(ctx.tx, reading.ticket_id) if reading.ticket_id else None
        if ticket is None and engineer is not None:
            lang = ctx.texts.lang(engineer.language)
            description = ctx.t(_text_key(item), lang, plan=plan_name(run, plan),
                                site=run.site or "-", item=item.label,
                                value=shown_value(item, reading), range=_range(item))
            new = NewTicket(
                description=description, impact=str(Impact.SINGLE),
                priority=item.priority or (plan.priority if plan else "P3"),
                category=item.category or (plan.category if plan else "general"),
                channel=CHANNEL, site=run.site, device=item.device,
                photos=[reading.photo] if reading.photo else [],
            )
            ticket, _ = await start_ticket(ctx, engineer, new)
            reading.ticket_id = ticket.id
            ctx.tx.add(reading)
            await tickets.add_event(ctx.tx, ticket, Event.FINDING, ctx.now, engineer.id,
                                    run=run.id, plan=run.plan_key, item=item.key,
                                    reading=reading.number if reading.number is not None
                                    else reading.value)
        found.append(Finding(item, reading, ticket))
    return found


def _text_key(item: Item) -> str:
    return "inspection.ticket_number" if item.kind == "number" else "inspection.ticket_text"


def _range(item: Item) -> Any:
    return normal_range(item) if item.kind == "number" else ""


def lines(ctx: Ctx, findings: list[Finding]) -> Any:
    """"• 主管道水压：0.05 MPa → 工单 FL-000003", a line a finding, rendered in each
    reader's language (a field Texts calls with the language)."""
    if not findings:
        return lazy("inspection.no_findings")
    parts = [lazy("inspection.finding_line", item=f.item.label,
                  value=shown_value(f.item, f.reading),
                  number=tickets.number(f.ticket.id or 0) if f.ticket else "-")
             for f in findings]
    return lambda lang: "".join(ctx.texts(lang, p.key, **p.fields) for p in parts)
