"""What the rest of the desk asks of monitoring: whether a ticket was born of an alarm, the
alarm's story for the engineer's page, whether a staff report is about a fault monitoring
already knows, and who else follows a ticket because they reported the same fault.

Only storage below it: paging, opening, the engineer's work and the follow-up import this
module, and the alarms flow imports them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from handlers.core.context import Ctx
from handlers.core.texts import lazy
from handlers.rules.lifecycle import OPEN
from storage import alarms, tickets
from storage.models import Incident, IncidentState, Person, Role, Ticket, TicketStatus

CHANNEL = "monitoring"  # Ticket.channel of a ticket monitoring opened
DONE = (TicketStatus.CLOSED, TicketStatus.CANCELLED)


class Event(StrEnum):
    LINKED = "alarm_linked"  # a staff report joined the job
    CLEARED = "alarm_cleared"
    REFIRED = "alarm_refired"
    QUIET = "alarm_quiet"  # the follow-up found the alarm quiet: closed without a survey


def alarm_born(ticket: Ticket) -> bool:
    return ticket.channel == CHANNEL


async def incident_of(ctx: Ctx, ticket: Ticket) -> Incident | None:
    return await alarms.of_ticket(ctx.tx, ticket.id or 0)


async def page_fields(ctx: Ctx, ticket: Ticket, reporter: Person | None) -> dict[str, Any]:
    """What a page says differently for a ticket monitoring knows about: who reported it (the
    monitoring system), and the device, its plot and the alarm history in the description."""
    incident = await incident_of(ctx, ticket)
    if incident is None:
        return {}
    fields: dict[str, Any] = {"description": await story(ctx, ticket, incident)}
    if reporter is not None and reporter.role == Role.MONITOR:
        fields["reporter"], fields["phone"] = lazy("alarm.monitoring"), "-"
    return fields


async def story(ctx: Ctx, ticket: Ticket, incident: Incident) -> Callable[[str], str]:
    """The description, the device and plot, what is behind it, and the latest alarms."""
    dev = await alarms.device(ctx.tx, incident.device)
    behind = await alarms.attached(ctx.tx, incident.id or 0)
    records = await alarms.history(ctx.tx, [incident.id or 0, *(i.id or 0 for i in behind)])
    device_name = (dev.name if dev and dev.name else "") or incident.device or "-"

    def render(lang: str) -> str:
        lines = [ticket.description, ctx.t(
            "alarm.device_line", lang, device=device_name, id=incident.device or "-",
            plot=incident.plot or "-", count=incident.count,
        )]
        if behind:
            lines.append(ctx.t("alarm.behind_line", lang, n=len(behind)))
        if incident.flapping:
            lines.append(ctx.t("alarm.flapping_line", lang, flaps=incident.flaps))
        for r in records:
            state = ctx.t("alarm.firing" if r.firing else "alarm.cleared_word", lang)
            lines.append(f"· {ctx.texts.time(lang, r.at)} {state} {r.summary[:80]}".rstrip())
        return "\n".join(lines)

    return render


async def matching_incident(ctx: Ctx, site: str, category: str, text: str) -> Incident | None:
    """An open incident a staff report is about: same site, and the report names the device,
    its name or its plot, or is about the same kind of equipment as the incident or the
    devices behind it. None when nothing monitoring knows fits."""
    said = text.lower()
    for incident in await alarms.open_at_site(ctx.tx, site):
        if incident.ticket_id is not None:
            ticket = await tickets.get(ctx.tx, incident.ticket_id)
            if ticket is None or ticket.status not in OPEN:
                continue
        if not incident.firing and incident.ticket_id is None:
            continue
        if _named(said, incident) or await _same_equipment(ctx, category, incident):
            return incident
    return None


def _named(said: str, incident: Incident) -> bool:
    if incident.device and incident.device.lower() in said:
        return True
    plot = incident.plot.strip().lower()
    if not plot:
        return False
    if plot in said:
        return True
    digits = re.findall(r"\d+", plot)  # "3号地块" and "plot 3" name the same plot
    return bool(digits) and any(
        re.search(rf"(?<!\d){d}\s*(号|#)?\s*(地块|区|plot|block)", said) or
        re.search(rf"(plot|block|地块)\s*{d}(?!\d)", said) for d in digits)


async def _same_equipment(ctx: Ctx, category: str, incident: Incident) -> bool:
    if not category or category == "general":
        return False
    if incident.category == category:
        return True
    return any(i.category == category for i in await alarms.attached(ctx.tx, incident.id or 0))


async def follow(ctx: Ctx, ticket: Ticket, reporter: Person, text: str) -> None:
    """A staff report about the fault of `ticket`: they follow it; the job's holder is told."""
    added = await alarms.follow(ctx.tx, ticket.id or 0, reporter.id or 0, text[:1000], ctx.now)
    if added:
        await tickets.add_event(ctx.tx, ticket, Event.LINKED, ctx.now, reporter.id)
    holder = await ctx.tx.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    number = tickets.number(ticket.id or 0)
    if holder is not None:
        await ctx.reply("alarm.already_known_taken", number=number, name=holder.name)
        if added:
            await ctx.notify(holder, "alarm.another_reporter", number=number,
                             name=reporter.name, phone=reporter.phone or "-", text=text[:300])
    else:
        await ctx.reply("alarm.already_known", number=number)


async def tell_followers(ctx: Ctx, ticket: Ticket, text_key: str, **fields: Any) -> None:
    for f in await alarms.followers(ctx.tx, ticket.id or 0):
        person = await ctx.tx.get(Person, f.person_id)
        if person is not None and person.id != ticket.reporter_id:
            await ctx.notify(person, text_key, number=tickets.number(ticket.id or 0), **fields)


async def still_firing(ctx: Ctx, ticket: Ticket) -> Incident | None:
    incident = await incident_of(ctx, ticket)
    return incident if incident is not None and incident.firing else None


async def followup_verdict(ctx: Ctx, ticket: Ticket) -> bool | None:
    """At the call-back of a ticket monitoring opened: True if its alarm came back after the
    fix, False if monitoring stayed quiet, None for tickets people reported."""
    if not alarm_born(ticket):
        return None
    incident = await incident_of(ctx, ticket)
    if incident is None:
        return None
    if incident.firing:
        return True
    since = ticket.resolved_at or ctx.now
    return any(r.firing and r.at > since
               for r in await alarms.history(ctx.tx, [incident.id or 0], limit=20))


def closed_by_ticket(incident: Incident, ticket: Ticket, now: datetime) -> bool:
    """The ticket behind an incident has closed: the incident closes with it (a new alarm of
    the same device and type then makes a new incident)."""
    if ticket.status not in DONE or incident.state != IncidentState.OPEN:
        return False
    incident.state, incident.open_key = str(IncidentState.CLOSED), None
    incident.cleared_at = incident.cleared_at or now
    return True


def grace_key(incident_id: int) -> str:
    """The timer that pages for an incident once its grace period is over."""
    return f"alarm-grace:{incident_id}"
