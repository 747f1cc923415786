"""Every figure of a report, computed in one pass over one period's history.

Definitions (the same in chat, on the command line and on the dashboard):
- volumes (by priority, category, site, engineer, fault type): tickets *created* in the period;
- service timeliness: of the tickets whose response was *due* in the period and is decided
  (responded, or the due time has passed), the share responded by the due time; an
  unanswered ticket past its due time is a miss; a ticket cancelled before anyone responded
  is left out;
- resolution rate: the same over resolve due times (cancelled tickets left out);
- satisfaction: of the tickets *resolved* in the period, surveys answered with 4–5 among the
  answered ones; the average score; response rate = answered / (answered + no response);
- time to respond / resolve (mean and p90, nearest rank, in minutes): tickets created in the
  period that were responded / resolved;
- self-service share: solved self-service attempts / (those + tickets created);
- articles: per article, how often self-service showed it and how often it was the one
  the reporter said solved the problem (attempts in the period; a "solved" from before
  articles had their own buttons is in the share but credited to no article);
- remote share: (tickets resolved in the period without an on-the-way / on-site step + solved
  self-service attempts) / (all tickets resolved in the period + solved self-service attempts);
- recurrences, escalations by tier and SLA breaches: events in the period; complaints: those
  lodged in the period;
- monitoring (alerts, incidents, noise, alarm to page / acknowledgement, alarm-born tickets,
  availability): see handlers/flows/reporting/monitoring.py;
- inspections (done, late, missed, open, faults found): see reporting/inspections.py;
- spare parts used (quantity and jobs per part): see reporting/parts.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.flows import escalation, followup
from handlers.flows.reporting import by_site, inspections, monitoring, parts, queries
from handlers.flows.reporting.period import Period, week_starts
from handlers.flows.reporting.rates import Durations, Rate, Targets
from storage.models import Ticket, TicketStatus
from storage.parts import Used
from storage.uow import Tx

PRIORITIES = ("P1", "P2", "P3", "P4")


@dataclass
class Week:
    start: date
    by_priority: dict[str, int]
    response: Rate
    resolution: Rate


@dataclass
class Figures:
    period: Period
    generated_at: datetime
    tickets: int
    by_priority: dict[str, int]
    by_category: dict[str, int]
    by_site: dict[str, int]
    by_engineer: dict[str, int]
    by_fault_type: dict[str, int]
    response: Rate
    resolution: Rate
    satisfied: Rate
    survey_response: Rate
    average_score: float | None
    scores: dict[int, int]
    time_to_respond: Durations
    time_to_resolve: Durations
    self_service: Rate
    articles: dict[str, list[int]]  # article id → [shown, solved], most shown first
    remote: Rate
    onsite: int
    recurrences: int
    complaints: int
    escalations: dict[str, int]
    breaches: dict[str, int]
    weeks: list[Week] = field(default_factory=list)
    monitoring: monitoring.Monitoring = field(default_factory=monitoring.Monitoring)
    inspections: inspections.Inspections = field(default_factory=inspections.Inspections)
    parts: dict[str, Used] = field(default_factory=dict)  # part code → used in the period


async def compute(
    tx: Tx, period: Period, now: datetime, targets: Targets | None = None,
    sites: tuple[str, ...] = (),
) -> Figures:
    """The period's figures; `sites`: only those sites' (see by_site.py), () = every site."""
    targets = targets or Targets()
    history = await by_site.narrow(tx, await queries.load(tx, period), period, sites)
    fig = of(history, period, now, targets)
    fig.monitoring = await monitoring.compute(tx, period, now, history.tickets,
                                              targets.availability, sites)
    fig.inspections = await inspections.compute(tx, period, sites)
    fig.parts = await parts.compute(tx, period, sites)
    return fig


def of(h: queries.History, period: Period, now: datetime, targets: Targets) -> Figures:
    created = [t for t in h.tickets if period.contains(t.created_at)]
    resolved = [t for t in h.tickets if period.contains(t.resolved_at)
                and t.status != TicketStatus.CANCELLED]
    solved = sum(1 for a in h.attempts if a.outcome == "solved")
    onsite = sum(1 for t in resolved if t.id in h.onsite_ids)
    return Figures(
        period=period, generated_at=now, tickets=len(created),
        **_volumes(created, h.names),
        response=response_rate(h.tickets, period, now, targets.timeliness),
        resolution=resolution_rate(h.tickets, period, now, targets.resolution),
        **_satisfaction(resolved, targets),
        time_to_respond=Durations.of([t.responded_at - t.created_at for t in created
                                      if t.responded_at is not None]),
        time_to_resolve=Durations.of([t.resolved_at - t.created_at for t in created
                                      if t.resolved_at is not None]),
        self_service=Rate(solved, solved + len(created)),
        articles=_articles(h),
        remote=Rate(len(resolved) - onsite + solved, len(resolved) + solved, targets.remote),
        onsite=onsite, complaints=h.complaints,
        **_events(h),
        weeks=weeks(h.tickets, period, now, targets),
    )


def _articles(h: queries.History) -> dict[str, list[int]]:
    shown = Counter(a for att in h.attempts for a in att.article_ids)
    solved = Counter(att.solved_article for att in h.attempts
                     if att.outcome == "solved" and att.solved_article)
    return {a: [n, solved[a]] for a, n in shown.most_common()}


def _satisfaction(resolved: list[Ticket], targets: Targets) -> dict[str, Any]:
    answered = [t.satisfaction for t in resolved
                if t.survey_state == "answered" and t.satisfaction is not None]
    silent = sum(1 for t in resolved if t.survey_state == "no_response")
    return {
        "satisfied": Rate(sum(1 for s in answered if s >= 4), len(answered), targets.satisfaction),
        "survey_response": Rate(len(answered), len(answered) + silent),
        "average_score": round(sum(answered) / len(answered), 2) if answered else None,
        "scores": {s: answered.count(s) for s in range(1, 6)},
    }


def _events(h: queries.History) -> dict[str, Any]:
    def detail(kind: str) -> Counter[str]:
        key = "tier" if kind == escalation.Event.ESCALATED else "clock"
        return Counter(str((e.details or {}).get(key, "")) for e in h.events if e.kind == kind)

    escalated = detail(escalation.Event.ESCALATED)
    breached = detail(escalation.Event.SLA_BREACHED)
    return {
        "recurrences": sum(1 for e in h.events if e.kind == followup.Event.RECURRENCE),
        "escalations": {tier: escalated[tier] for tier in ("2", "3")},
        "breaches": {clock: breached[clock] for clock in ("response", "resolve")},
    }


def _volumes(created: list[Ticket], names: dict[int, str]) -> dict[str, Any]:
    def count(values: list[str]) -> dict[str, int]:
        return dict(Counter(values).most_common())

    by_priority = {p: 0 for p in PRIORITIES} | dict(Counter(t.priority for t in created))
    return {
        "by_priority": by_priority,
        "by_category": count([t.category for t in created]),
        "by_site": count([t.site or "-" for t in created]),
        "by_engineer": count([names.get(t.assignee_id or 0, "-") for t in created]),
        "by_fault_type": count([t.fault_type or "unclassified" for t in created]),
    }


def response_rate(rows: list[Ticket], period: Period, now: datetime, target: float) -> Rate:
    due = [t for t in rows if period.contains(t.response_due)
           and (t.responded_at is not None or t.response_due <= now)
           and not (t.status == TicketStatus.CANCELLED and t.responded_at is None)]
    met = sum(1 for t in due if t.responded_at is not None and t.responded_at <= t.response_due)
    return Rate(met, len(due), target)


def resolution_rate(rows: list[Ticket], period: Period, now: datetime, target: float) -> Rate:
    due = [t for t in rows if period.contains(t.resolve_due)
           and (t.resolved_at is not None or t.resolve_due <= now)
           and t.status != TicketStatus.CANCELLED]
    met = sum(1 for t in due if t.resolved_at is not None and t.resolved_at <= t.resolve_due)
    return Rate(met, len(due), target)


def weeks(rows: list[Ticket], period: Period, now: datetime, targets: Targets) -> list[Week]:
    """Per site-time week: tickets created by priority and the two SLA rates (chart data)."""
    zone = ZoneInfo(period.zone)
    out: list[Week] = []
    for monday in week_starts(period):
        start = datetime.combine(monday, datetime.min.time(), tzinfo=zone)
        span = Period(str(monday), max(start, period.start),
                      min(start + timedelta(days=7), period.end), period.zone)
        made = Counter(t.priority for t in rows if span.contains(t.created_at))
        out.append(Week(monday, {p: made[p] for p in PRIORITIES},
                        response_rate(rows, span, now, targets.timeliness),
                        resolution_rate(rows, span, now, targets.resolution)))
    return out

