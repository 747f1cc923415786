"""Alarms become incidents, and incidents that last become tickets.

    firing alarm ──► the open incident of its key (device + type), or a new one
        │               repeats only count; a clear then a fire again is a flap
        ├─ a gateway above it is down ──► attached to the gateway's incident, nobody paged
        ├─ severity says "record only" (info) ──► recorded
        ├─ flapping (N flaps in the window) ──► a ticket now, once
        └─ otherwise: grace period (per severity, longer at night) ──► still firing? a ticket,
           paged as any job, the page naming the device, its plot and the alarm history
    cleared alarm ──► before paging: recorded, nobody woken; with a ticket: noted on it and
                      the engineer asked to confirm the fix
    heartbeat ──► the device's silence timer moves on; silence past the window is an alarm

One transaction per alarm (Desk.alarm); the open-incident constraint keeps one incident per key
across replicas.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum

from handlers.core import logctx, tokens
from handlers.core.context import Ctx
from handlers.core.messages import SEVERITIES, Alarm, Heartbeat
from handlers.core.router import Router
from handlers.flows.alarms import links
from handlers.flows.engineer.keyboard import Action as Work
from handlers.flows.jobs.opening import NewTicket, start_ticket
from handlers.flows.jobs.summary import number, tell_managers
from handlers.rules.lifecycle import OPEN
from storage import alarms, tickets, timers
from storage.models import (
    AlarmRecord,
    Device,
    Incident,
    IncidentState,
    Person,
    Ticket,
    TicketStatus,
    Timer,
)

log = logging.getLogger(__name__)
router = Router("alarms")
SILENT = "silent"  # the alarm type of a device whose heartbeat stopped
SILENT_SEVERITY = "major"
BUSY_RETRY = timedelta(seconds=5)


class Due(StrEnum):
    GRACE = "alarm_grace"
    SILENCE = "device_silence"


@router.entry("alarm")
async def on_alarm(ctx: Ctx, alarm: Alarm) -> None:
    logctx.set(alarm=alarm.event_id)
    dev = await alarms.seen_device(ctx.tx, alarm.device, ctx.now)
    incident = await alarms.open_incident(ctx.tx, alarm.key)
    if incident is not None and incident.ticket_id is not None:
        ticket = await tickets.get(ctx.tx, incident.ticket_id)
        if ticket is None or links.closed_by_ticket(incident, ticket, ctx.now):
            ctx.tx.add(incident)
            await ctx.tx.flush()  # its key is free for the new incident below
            incident = None
    if incident is None:
        await _without_open_incident(ctx, alarm, dev)
        return
    _record(ctx, incident, alarm)
    stale = alarm.at < incident.last_at  # an older state arriving late changes nothing
    incident.count += 1
    if _more_severe(alarm.severity, incident.severity):
        incident.severity = alarm.severity
    if not stale:
        incident.last_at = alarm.at
        if alarm.summary:
            incident.summary = alarm.summary[:1000]
    ctx.tx.add(incident)
    if stale or alarm.firing == incident.firing:
        return
    if alarm.firing:
        await _fired_again(ctx, incident)
    else:
        await _cleared(ctx, incident)


async def _without_open_incident(ctx: Ctx, alarm: Alarm, dev: Device | None) -> None:
    rules = ctx.config.alarm_rules
    recent = await alarms.latest(ctx.tx, alarm.key)
    if not alarm.firing:
        if recent is not None:  # a late or repeated clear: history only
            _record(ctx, recent, alarm)
        else:
            log.info("clear for an alarm never seen firing: recorded nowhere")
        return
    if recent is not None and recent.state == IncidentState.CLEARED and recent.cleared_at \
            and ctx.now - recent.cleared_at <= rules.reopen_within:
        incident = recent  # it came back soon after clearing: the same fault, flapping
        incident.state, incident.open_key = str(IncidentState.OPEN), alarm.key
        incident.firing = True
        incident.flaps += 1
        incident.count += 1
        incident.last_at, incident.cleared_at = alarm.at, None
    else:
        incident = Incident(
            key=alarm.key, open_key=alarm.key, device=alarm.device, kind=alarm.kind[:120],
            source=alarm.source, severity=alarm.severity, summary=alarm.summary[:1000],
            site=alarm.site or (dev.site if dev else ""),
            plot=alarm.plot or (dev.plot if dev else ""),
            category=rules.category(dev.type if dev else "", dev.category if dev else ""),
            first_at=alarm.at, last_at=alarm.at, received_at=ctx.now,
        )
    ctx.tx.add(incident)
    await ctx.tx.flush()  # two replicas opening the same key: one fails here, and retries
    _record(ctx, incident, alarm)
    await _firing(ctx, incident, dev)


async def _firing(ctx: Ctx, incident: Incident, dev: Device | None) -> None:
    """A new or returning fault: explained by a gateway, recorded, paged now, or after grace."""
    rules = ctx.config.alarm_rules
    above = await alarms.firing_on(ctx.tx, await alarms.ancestors(ctx.tx, dev))
    if above is not None and above.id != incident.id:
        incident.parent_id = above.id
        ctx.tx.add(incident)
        return
    await _adopt_children(ctx, incident)
    if not rules.priority(incident.severity):
        return  # recorded only
    if incident.ticket_id is not None:
        return
    if incident.flaps and await _flapping(ctx, incident):
        await open_for(ctx, incident)
        return
    grace = rules.grace(incident.severity, night=_night(ctx))
    if grace <= timedelta(0):
        await open_for(ctx, incident)
        return
    await timers.schedule(ctx.tx, links.grace_key(incident.id or 0), Due.GRACE, ctx.now + grace,
                          payload={"incident": incident.id})


async def _adopt_children(ctx: Ctx, incident: Incident) -> None:
    """A gateway is down: the alarms of the devices behind it are its symptoms."""
    if not incident.device:
        return
    behind = await alarms.children(ctx.tx, incident.device)
    for child in await alarms.open_unpaged_of(ctx.tx, behind):
        child.parent_id = incident.id
        ctx.tx.add(child)
        await timers.cancel(ctx.tx, links.grace_key(child.id or 0))


async def _flapping(ctx: Ctx, incident: Incident) -> bool:
    rules = ctx.config.alarm_rules
    flaps = await alarms.refires_since(ctx.tx, incident.id or 0, ctx.now - rules.flap_window)
    if flaps >= rules.flaps and not incident.flapping:  # this fire's record is counted
        incident.flapping = True
        ctx.tx.add(incident)
    return incident.flapping


def _night(ctx: Ctx) -> bool:
    return ctx.config.after_quiet_hours(ctx.now) != ctx.now


@router.timer(Due.GRACE)
async def grace_over(ctx: Ctx, timer: Timer) -> None:
    incident = await alarms.get_unless_busy(ctx.tx, int(timer.payload.get("incident", 0)))
    if incident is False:  # an alarm of it is being handled right now: look again shortly
        await timers.schedule(ctx.tx, timer.key, Due.GRACE, ctx.now + BUSY_RETRY,
                              payload=timer.payload)
        return
    if not isinstance(incident, Incident) or incident.state != IncidentState.OPEN \
            or not incident.firing \
            or incident.ticket_id is not None or incident.parent_id is not None:
        return
    dev = await alarms.device(ctx.tx, incident.device)
    above = await alarms.firing_on(ctx.tx, await alarms.ancestors(ctx.tx, dev))
    if above is not None:
        incident.parent_id = above.id
        ctx.tx.add(incident)
        return
    await open_for(ctx, incident)


async def open_for(ctx: Ctx, incident: Incident) -> Ticket:
    """The incident's ticket, reported by the monitoring system, paged as any job."""
    rules = ctx.config.alarm_rules
    monitor = await alarms.monitor_person(ctx.tx, ctx.now)
    dev = await alarms.device(ctx.tx, incident.device)
    name = (dev.name if dev and dev.name else "") or incident.device or "-"
    what = incident.summary or incident.kind
    new = NewTicket(
        description=f"{name}: {what}"[:2000], impact="", priority=rules.priority(incident.severity)
        or "P4", category=incident.category, device=incident.device, channel=links.CHANNEL,
        site=incident.site,
    )
    ticket, _ = await start_ticket(ctx, monitor, new, incident=incident)
    return ticket


async def _fired_again(ctx: Ctx, incident: Incident) -> None:
    incident.firing, incident.cleared_at = True, None
    incident.flaps += 1
    ctx.tx.add(incident)
    if incident.ticket_id is None:
        dev = await alarms.device(ctx.tx, incident.device)
        await _firing(ctx, incident, dev)
        return
    ticket = await tickets.get(ctx.tx, incident.ticket_id, lock=True)
    if ticket is None:
        return
    await tickets.add_event(ctx.tx, ticket, links.Event.REFIRED, ctx.now, None)
    if ticket.status == TicketStatus.RESOLVED:  # the follow-up reopens it as a recurrence
        await tell_managers(ctx, "alarm.refired_after_fix", ticket, device=incident.device or "-")
    holder = await ctx.tx.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    if holder is not None:
        await ctx.notify(holder, "alarm.refired", number=number(ticket),
                         device=incident.device or "-")


async def _cleared(ctx: Ctx, incident: Incident) -> None:
    incident.firing, incident.cleared_at = False, incident.last_at
    if incident.ticket_id is None:  # before anyone was paged: recorded, nobody woken
        incident.state, incident.open_key = str(IncidentState.CLEARED), None
        ctx.tx.add(incident)
        await timers.cancel(ctx.tx, links.grace_key(incident.id or 0))
        return
    ctx.tx.add(incident)
    ticket = await tickets.get(ctx.tx, incident.ticket_id, lock=True)
    if ticket is None:
        return
    await tickets.add_event(ctx.tx, ticket, links.Event.CLEARED, ctx.now, None,
                            device=incident.device)
    holder = await ctx.tx.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    if holder is not None and ticket.status in OPEN:
        rows = [[("button.resolved", tokens.ticket(ticket.id, Work.RESOLVED))]]
        await ctx.notify(holder, "alarm.cleared_confirm", rows, number=number(ticket),
                         device=incident.device or "-")


def _record(ctx: Ctx, incident: Incident, alarm: Alarm) -> None:
    ctx.tx.add(AlarmRecord(
        incident_id=incident.id or 0, at=alarm.at, received_at=ctx.now, firing=alarm.firing,
        severity=alarm.severity, source=alarm.source, summary=alarm.summary[:1000],
    ))


def _more_severe(a: str, b: str) -> bool:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return rank.get(a, 3) < rank.get(b, 3)


@router.entry("heartbeat")
async def on_heartbeat(ctx: Ctx, beat: Heartbeat) -> None:
    """The device is alive: its silence alarm (if any) clears, its watch moves on."""
    dev = await alarms.seen_device(ctx.tx, beat.device, ctx.now)
    if dev is None:
        return
    if dev.last_heartbeat is not None and beat.at <= dev.last_heartbeat:
        return  # an older beat arriving late
    dev.last_heartbeat = beat.at
    ctx.tx.add(dev)
    if dev.heartbeat_minutes:
        await watch(ctx, dev, beat.at)
    silent = await alarms.open_incident(ctx.tx, f"{dev.id}/{SILENT}")
    if silent is not None and silent.firing:
        await on_alarm(ctx, Alarm(source="heartbeat", event_id=f"beat:{beat.event_id}",
                                  device=dev.id, kind=SILENT, firing=False, at=beat.at,
                                  severity=silent.severity))


async def watch(ctx: Ctx, dev: Device, since: datetime) -> None:
    """Expect the next heartbeat within the device's window."""
    due = since + timedelta(minutes=dev.heartbeat_minutes or 0)
    await timers.schedule(ctx.tx, f"silence:{dev.id}", Due.SILENCE, max(due, ctx.now),
                          payload={"device": dev.id})


@router.timer(Due.SILENCE)
async def silent(ctx: Ctx, timer: Timer) -> None:
    dev = await alarms.device(ctx.tx, str(timer.payload.get("device", "")))
    if dev is None or not dev.heartbeat_minutes:
        return
    window = timedelta(minutes=dev.heartbeat_minutes)
    last = dev.last_heartbeat
    if last is not None and ctx.now - last < window:
        await watch(ctx, dev, last)  # a beat came in after the timer was claimed
        return
    await on_alarm(ctx, Alarm(
        source="heartbeat", event_id=f"silent:{dev.id}:{timer.due_at:%Y%m%d%H%M%S}",
        device=dev.id, kind=SILENT, firing=True, at=ctx.now, severity=SILENT_SEVERITY,
        summary=ctx.t("alarm.silent_summary", minutes=dev.heartbeat_minutes),
    ))
