"""A report as text: terminal table, Markdown (with chart links), CSV and JSON.

Table and Markdown are for people, so their labels come from the catalogs in the reader's
language; CSV and JSON are for machines and keep stable English keys.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from dataclasses import dataclass
from typing import Any

from handlers.core import escape
from handlers.core.texts import Texts
from handlers.flows.reporting import inspections, parts
from handlers.flows.reporting.figures import Figures
from handlers.flows.reporting.rates import Durations, Rate, plain

MAX_ARTICLES = 10  # the most shown; the CSV and JSON list them all


@dataclass(frozen=True)
class Labels:
    """The catalog in one language, with the deployment's name at hand."""

    texts: Texts
    lang: str
    company: str = ""

    def __call__(self, key: str, **fields: Any) -> str:
        return self.texts(self.lang, f"reporting.{key}", company=self.company, **fields)

    def name(self, section: str, value: str) -> str:
        """A priority, category or fault type by its catalog name when it has one."""
        if self.texts.has(f"{section}.{value}"):
            return self.texts(self.lang, f"{section}.{value}")
        if section == "engineer" and value == "-":
            return self("unassigned")
        return self("unclassified") if value == "unclassified" else value


def rate(lb: Labels, r: Rate) -> str:
    if r.percent is None:
        return lb("rate_none")
    if r.target is None:
        return lb("rate_plain", percent=r.percent, met=r.met, total=r.total)
    mark = lb("mark_ok" if r.on_target else "mark_miss")
    return lb("rate", percent=r.percent, met=r.met, total=r.total,
              target=round(100 * r.target, 1), mark=mark)


def duration(lb: Labels, d: Durations) -> str:
    if d.count == 0:
        return lb("duration_none")
    return lb("duration", mean=d.mean_minutes, p90=d.p90_minutes, count=d.count)


def is_empty(fig: Figures) -> bool:
    return not (fig.tickets or fig.self_service.met or fig.complaints
                or fig.response.total or fig.resolution.total or fig.survey_response.total
                or fig.monitoring.alerts or fig.inspections.due)


def headline(fig: Figures, lb: Labels) -> list[tuple[str, str]]:
    """The figures judged against the service plan's targets (chat and dashboard use these)."""
    score = lb("score", average=fig.average_score) if fig.average_score is not None else "-"
    return [
        (lb("tickets"), str(fig.tickets)),
        (lb("timeliness"), rate(lb, fig.response)),
        (lb("resolution"), rate(lb, fig.resolution)),
        (lb("satisfied"), rate(lb, fig.satisfied)),
        (lb("average_score"), score),
        (lb("survey_response"), rate(lb, fig.survey_response)),
        (lb("remote"), rate(lb, fig.remote)),
        (lb("breaches"), lb("breach_clocks", **fig.breaches)),
    ]


def rows(fig: Figures, lb: Labels) -> list[tuple[str, str]]:
    """Every figure as (label, value), in the order people read them."""
    out = headline(fig, lb)
    out += [
        (lb("time_to_respond"), duration(lb, fig.time_to_respond)),
        (lb("time_to_resolve"), duration(lb, fig.time_to_resolve)),
        (lb("self_service"), rate(lb, fig.self_service)),
        (lb("onsite"), str(fig.onsite)),
        (lb("recurrences"), str(fig.recurrences)),
        (lb("complaints"), str(fig.complaints)),
        (lb("escalations"), lb("escalation_tiers", tier2=fig.escalations["2"],
                                tier3=fig.escalations["3"])),
        (lb("scores"), " · ".join(f"{s}: {n}" for s, n in fig.scores.items())),
    ]
    for key, section, counts in _breakdowns(fig):
        named = (f"{lb.name(section, k)} {n}" for k, n in counts.items())
        out.append((lb(key), ", ".join(named) or "-"))
    listed = list(fig.articles.items())[:MAX_ARTICLES]
    out.append((lb("by_article"), ", ".join(f"{a} {s}/{ok}" for a, (s, ok) in listed) or "-"))
    return (out + monitoring_rows(fig, lb) + inspections.rows(fig.inspections, lb)
            + parts.rows(fig.parts, lb))


def monitoring_rows(fig: Figures, lb: Labels) -> list[tuple[str, str]]:
    """Alarms and availability; nothing when monitoring sent nothing in the period."""
    m = fig.monitoring
    if not (m.alerts or m.incidents or m.availability):
        return []
    up = [lb("availability_line", system=lb.name("category", system), up=a.up_percent,
             target=a.target_percent, minutes=a.down_minutes,
             mark=lb("mark_ok" if a.on_target else "mark_miss"))
          for system, a in m.availability.items()]
    return [
        (lb("alerts"), lb("alerts_value", alerts=m.alerts, incidents=m.incidents,
                          noise="-" if m.noise is None else m.noise)),
        (lb("alarm_to_page"), duration(lb, m.to_page)),
        (lb("alarm_to_ack"), duration(lb, m.to_ack)),
        (lb("alarm_tickets"), lb("alarm_tickets_value", alarm=m.alarm_tickets,
                                 human=m.human_tickets)),
        (lb("availability"), "; ".join(up) or lb("availability_all_up")),
    ]


def _breakdowns(fig: Figures) -> list[tuple[str, str, dict[str, int]]]:
    return [("by_priority", "priority", fig.by_priority),
            ("by_category", "category", fig.by_category), ("by_site", "", fig.by_site),
            ("by_engineer", "engineer", fig.by_engineer),
            ("by_fault_type", "fault_type", fig.by_fault_type)]


def title(fig: Figures, lb: Labels) -> list[str]:
    p = fig.period
    lines = [lb("title", period=p.label),
             lb("range", first=p.first_day, last=p.last_day, zone=p.zone)]
    return [*lines, lb("empty")] if is_empty(fig) else lines


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def table(fig: Figures, lb: Labels) -> str:
    """Two aligned columns for a terminal (wide CJK characters count twice)."""
    data = rows(fig, lb)
    left = max(_width(k) for k, _ in data)
    body = [k + " " * (left - _width(k)) + "  " + v for k, v in data]
    return "\n".join([*title(fig, lb), "", *body]) + "\n"


def markdown(fig: Figures, lb: Labels, charts: dict[str, str] | None = None) -> str:
    """The report as Markdown; names in it (sites, engineers, the company) are escaped."""
    md = escape.markdown
    head = [md(line, inline=True) for line in title(fig, lb)]
    out = [f"# {head[0]}", "", *head[1:], "",
           f"| {lb('col_figure')} | {lb('col_value')} |", "|---|---|"]
    out += [f"| {md(k, inline=True)} | {md(v, inline=True)} |" for k, v in rows(fig, lb)]
    if charts:
        out += ["", f"## {lb('charts')}", ""]
        out += [f"![{lb('chart_' + name)}]({path})" for name, path in charts.items()]
    return "\n".join(out) + "\n"


def as_json(fig: Figures) -> str:
    return json.dumps(plain(fig), ensure_ascii=False, indent=2) + "\n"


def as_csv(fig: Figures) -> str:
    """Long format, one figure a row: section, key, value (spreadsheets pivot it easily).
    Keys hold names people chose (sites, engineers): a cell a spreadsheet would run as a
    formula is quoted (`escape.csv_cell`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["section", "key", "value"])
    for section, value in plain(fig).items():
        for key, leaf in _leaves(value):
            cells = [section, key, "" if leaf is None else leaf]
            writer.writerow([escape.csv_cell(c) for c in cells])
    return buf.getvalue()


def _leaves(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _leaves(v, f"{prefix}{k}.")]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in _leaves(v, f"{prefix}{i}.")]
    return [(prefix.rstrip("."), value)]
