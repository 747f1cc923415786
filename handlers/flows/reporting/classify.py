"""The quarterly fault classification (按季分类、统计、汇总、分析): where the common causes are.

- top causes: the engineers' recorded causes of tickets created in the period, grouped by
  fault type and the cause text (trimmed, case-folded), most frequent first;
- repeat devices: a device (with its site) that had two or more tickets in the period;
- sites: tickets per site, most first;
- most used articles: articles in self-service attempts that solved the problem;
- missing articles: categories of tickets for which self-service had no article to show.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from handlers.flows.reporting import by_site, queries
from handlers.flows.reporting.period import Period
from storage.uow import Tx

TOP = 5


@dataclass
class Classification:
    period: Period
    tickets: int
    by_fault_type: dict[str, int]
    top_causes: list[tuple[str, str, int]]  # (fault type, cause, tickets)
    repeat_devices: list[tuple[str, str, int]]  # (site, device, tickets)
    sites: list[tuple[str, int]]
    articles_used: list[tuple[str, int]]
    articles_missing: list[tuple[str, int]]  # (category, tickets with no article shown)


async def classify(tx: Tx, period: Period, sites: tuple[str, ...] = ()) -> Classification:
    """The period's classification; `sites`: only those sites', () = every site."""
    return of(await by_site.narrow(tx, await queries.load(tx, period), period, sites), period)


def of(h: queries.History, period: Period) -> Classification:
    created = [t for t in h.tickets if period.contains(t.created_at)]
    causes = Counter((t.fault_type or "unclassified", " ".join(t.cause.split()).casefold())
                     for t in created if t.cause.strip())
    devices = Counter((t.site or "-", t.device.strip()) for t in created if t.device.strip())
    used = Counter(att.solved_article for att in h.attempts
                   if att.outcome == "solved" and att.solved_article)
    missing = Counter(t.category for t in created if not t.kb_shown)
    return Classification(
        period=period, tickets=len(created),
        by_fault_type=dict(Counter(t.fault_type or "unclassified" for t in created).most_common()),
        top_causes=[(ft, cause, n) for (ft, cause), n in causes.most_common(TOP)],
        repeat_devices=[(s, d, n) for (s, d), n in devices.most_common() if n >= 2][:TOP],
        sites=Counter(t.site or "-" for t in created).most_common(TOP),
        articles_used=used.most_common(TOP),
        articles_missing=missing.most_common(TOP),
    )
