"""The monitoring figures of a report: what the alarms were and what they cost.

Definitions:
- alerts: alarm states received in the period (repeats and clears included); incidents:
  incidents first heard of in the period; noise: alerts per incident;
- alarm to page / to acknowledgement: from the desk first hearing of an incident to its
  ticket's page / an engineer accepting it (incidents first heard of in the period);
- alarm-born vs human tickets: tickets created in the period, by who opened them;
- availability, per monitored system (the ticket category of the devices): the share of the
  period (up to now) in which no incident of that system that stood on its own (not behind a
  failed gateway) was firing, against the plan's target (99.9 %). Overlapping incidents count
  once. Only systems with any downtime are listed; the rest were up throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlmodel import col

from handlers.flows.alarms import links
from handlers.flows.reporting import by_site
from handlers.flows.reporting.period import Period
from handlers.flows.reporting.rates import Durations
from storage.models import AlarmRecord, Incident, Ticket
from storage.uow import Tx


@dataclass(frozen=True)
class Availability:
    up_percent: float
    down_minutes: float
    target_percent: float

    @property
    def on_target(self) -> bool:
        return self.up_percent >= self.target_percent


@dataclass
class Monitoring:
    alerts: int = 0
    incidents: int = 0
    noise: float | None = None  # alerts per incident
    to_page: Durations = field(default_factory=lambda: Durations(0, None, None))
    to_ack: Durations = field(default_factory=lambda: Durations(0, None, None))
    alarm_tickets: int = 0
    human_tickets: int = 0
    availability: dict[str, Availability] = field(default_factory=dict)


async def compute(tx: Tx, period: Period, now: datetime, tickets: list[Ticket],
                  target: float, sites: tuple[str, ...] = ()) -> Monitoring:
    start, end = period.start, min(period.end, now)
    alerts = int(await tx.scalar(select(func.count()).select_from(AlarmRecord).where(
        col(AlarmRecord.received_at) >= period.start, col(AlarmRecord.received_at) < period.end,
    )) or 0) if not sites else await by_site.alerts(tx, period, sites)
    incidents = by_site.incidents(await tx.scalars(select(Incident).where(
        col(Incident.first_at) < period.end,
        or_(col(Incident.cleared_at).is_(None), col(Incident.cleared_at) >= period.start),
    )), sites)
    heard = [i for i in incidents if period.contains(i.received_at)]
    by_id = {t.id: t for t in tickets}
    paged = [i for i in heard if i.paged_at is not None]
    acked = [(i, by_id.get(i.ticket_id)) for i in heard if i.ticket_id is not None]
    created = [t for t in tickets if period.contains(t.created_at)]
    born = sum(1 for t in created if links.alarm_born(t))
    return Monitoring(
        alerts=alerts, incidents=len(heard),
        noise=round(alerts / len(heard), 1) if heard else None,
        to_page=Durations.of([i.paged_at - i.received_at for i in paged
                              if i.paged_at is not None]),
        to_ack=Durations.of([t.responded_at - i.received_at for i, t in acked
                             if t is not None and t.responded_at is not None]),
        alarm_tickets=born, human_tickets=len(created) - born,
        availability=availability(incidents, start, end, now, target) if end > start else {},
    )


def availability(incidents: list[Incident], start: datetime, end: datetime, now: datetime,
                 target: float) -> dict[str, Availability]:
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for i in incidents:
        if i.parent_id is not None or i.severity == "info":
            continue
        a, b = max(i.first_at, start), min(i.cleared_at or now, end)
        if b > a:
            spans.setdefault(i.category or "general", []).append((a, b))
    total = (end - start).total_seconds()
    out = {}
    for system, parts in sorted(spans.items()):
        down = _union(parts).total_seconds()
        out[system] = Availability(round(100 * (1 - down / total), 3), round(down / 60, 1),
                                   round(100 * target, 3))
    return out


def _union(parts: list[tuple[datetime, datetime]]) -> timedelta:
    total, cur_a, cur_b = timedelta(0), None, None
    for a, b in sorted(parts):
        if cur_b is None or a > cur_b:
            if cur_a is not None and cur_b is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_a is not None and cur_b is not None:
        total += cur_b - cur_a
    return total
