"""What the dashboard shows, as HTML fragments: the page is built from them, and the refresh
endpoint sends the same fragments so the page can swap them in without a reload.

Everything people wrote (sites, names) is HTML-escaped here and nowhere else: the script
only puts these server-made fragments into the page. Ticket tables carry each cell's column
name (`data-label`) so a phone can show every ticket as a card instead of a wide table.
"""

from __future__ import annotations

import hashlib
import html
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from handlers.core.texts import Texts
from handlers.flows.manager import next_deadline
from handlers.flows.reporting import charts, figures, period, render
from storage import tickets
from storage.models import Ticket

e = html.escape
TICKET_COLUMNS = ("dash_number", "dash_priority", "dash_status", "dash_site", "dash_assignee",
                  "dash_clock", "dash_due", "dash_left")
PHONE_PX = 640  # the width up to which dashboard.css lays the page out for a phone
PRESET_KEYS = {"month": "dash.this_month", "last-month": "dash.last_month",
               "7d": "dash.last_7", "30d": "dash.last_30"}


@dataclass(frozen=True)
class Snapshot:
    """One moment of the desk: the chosen period's figures and what is open right now."""

    fig: figures.Figures
    open_rows: list[Ticket]
    names: dict[int, str]
    now: datetime
    choice: str  # the period as the URL names it: a preset key or a period label
    site: str = ""  # the site as the URL names it ("" = the sign-in's own sites, or all)
    options: tuple[str, ...] = ()  # the sites the selector offers
    scoped: bool = False  # the sign-in sees only `options` (a manager's sites)


def query(choice: str, site: str = "", **more: str) -> str:
    return urlencode({"period": choice, **({"site": site} if site else {}), **more})


class View:
    def __init__(self, texts: Texts, lb: render.Labels, zone: str) -> None:
        self.texts, self.lb, self.zone = texts, lb, ZoneInfo(zone)

    def updated(self, now: datetime) -> str:
        return self.lb("dash.updated", time=f"{now.astimezone(self.zone):%H:%M}")

    def parts(self, snap: Snapshot) -> dict[str, str]:
        """The fragments that change as tickets move, by the `data-part` that holds each."""
        lb, fig = self.lb, snap.fig
        ordered = sorted(snap.open_rows, key=next_deadline)
        breached = [t for t in ordered if next_deadline(t) <= snap.now]
        p = fig.period
        return {
            "h_open": e(f"{lb('dash_open')} ({len(ordered)})"),
            "open": self._tickets(ordered, snap, "dash_none"),
            "h_breaches": e(f"{lb('dash_breaches')} ({len(breached)})"),
            "breaches": self._tickets(breached, snap, "dash.none_breaches"),
            "load": self._load(snap),
            "h_figures": e(f"{lb('dash_figures')} {self._period_name(snap.choice, p)}"),
            "range": e(lb("range", first=p.first_day, last=p.last_day, zone=p.zone)),
            "figures": self._figures(fig),
            "charts_note": (f'<p class="none">{e(lb("dash.no_charts"))}</p>'
                            if render.is_empty(fig) else ""),
            "updated": e(self.updated(snap.now)),
        }

    def _period_name(self, choice: str, p: period.Period) -> str:
        """"近 7 天" says more than its dates (shown below it anyway); a month by its label."""
        return self.lb(PRESET_KEYS[choice]) if choice in ("7d", "30d") else p.label

    def chart_urls(self, snap: Snapshot) -> dict[str, str]:
        """Each chart's address; `v` changes only when the figures do, so a refresh redraws
        the charts only then (drawing costs CPU)."""
        v = version(snap.fig, self.lb)
        return {n: f"/dashboard/chart/{n}.png?{query(snap.choice, snap.site, v=v)}"
                for n in charts.NAMES}

    def charts(self, snap: Snapshot) -> str:
        """Each chart drawn twice as needed: narrow for phones (same lettering, fewer pixels
        across, so it is not shrunk unreadable), wide otherwise."""
        return "".join(
            f'<picture><source media="(max-width: {PHONE_PX}px)" data-chart="{n}" '
            f'srcset="{e(url)}&amp;size=narrow">'
            f'<img data-chart="{n}" alt="{e(self.lb("chart_" + n))}" src="{e(url)}" '
            'width="700" height="400"></picture>'
            for n, url in self.chart_urls(snap).items())

    def periods(self, choice: str, now: datetime, zone: str, site: str = "") -> str:
        """The period selector: presets as links, any month through a month field; every
        choice is in the URL, so a view can be bookmarked or sent on."""
        lb = self.lb
        keep = f'<input type="hidden" name="site" value="{e(site)}">' if site else ""
        links = "".join(
            f'<a href="/dashboard?{e(query(key, site))}"'
            f'{" aria-current=page" if key == choice else ""}>{e(lb(text))}</a>'
            for key, text in PRESET_KEYS.items())
        month = choice if _is_month(choice) else f"{period.local_day(now, zone):%Y-%m}"
        return (f'<nav class="periods" aria-label="{e(lb("dash.period"))}">{links}'
                f'<form method="get" action="/dashboard"><label>{e(lb("dash.pick_month"))} '
                f'<input type="month" name="period" value="{e(month)}" required></label>'
                f'{keep}<button type="submit">{e(lb("dash.show"))}</button></form></nav>')

    def sites(self, snap: Snapshot) -> str:
        """The site selector, beside the period's: the default (the sign-in's sites, or all)
        and each site as a link that keeps the period."""
        lb = self.lb
        links = [(lb("sites.mine" if snap.scoped else "sites.all"), "")]
        links += [(name, name) for name in snap.options]
        return (f'<nav class="sites" aria-label="{e(lb("sites.label"))}">' + "".join(
            f'<a href="/dashboard?{e(urlencode({"site": value, "period": snap.choice}))}"'
            f'{" data-current" if value == snap.site else ""} title="{e(text)}">{e(text)}</a>'
            for text, value in links) + "</nav>")

    def _tickets(self, rows: list[Ticket], snap: Snapshot, none_key: str) -> str:
        lb = self.lb
        if not rows:
            return f'<p class="none">{e(lb(none_key))}</p>'
        head = "".join(f'<th scope="col">{e(lb(k))}</th>' for k in TICKET_COLUMNS)
        body = "".join(self._ticket_row(t, snap) for t in rows)
        return (f'<div class="scroll"><table class="tickets"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table></div>")

    def _ticket_row(self, t: Ticket, snap: Snapshot) -> str:
        lb, due = self.lb, next_deadline(t)
        clock = lb("dash_respond" if t.responded_at is None else "dash_resolve")
        cells = [tickets.number(t.id or 0), lb.name("priority", t.priority),
                 lb.name("status", t.status), t.site or "-",
                 snap.names.get(t.assignee_id or 0, lb("unassigned")), clock,
                 self.texts.time(lb.lang, due)]
        labels = [e(lb(k)) for k in TICKET_COLUMNS]
        tds = "".join(f'<td class="{k.removeprefix("dash_")}" data-label="{label}">{e(c)}</td>'
                      for k, label, c in zip(TICKET_COLUMNS, labels[:-1], cells, strict=False))
        late = " overdue" if due <= snap.now else ""
        return (f'<tr class="ticket{late}">{tds}<td class="left" data-label="{labels[-1]}" '
                f'data-due="{due.isoformat()}">-</td></tr>')

    def _load(self, snap: Snapshot) -> str:
        lb = self.lb
        load = Counter(snap.names.get(t.assignee_id or 0, lb("unassigned"))
                       for t in snap.open_rows)
        if not load:
            return f'<p class="none">{e(lb("dash.none_load"))}</p>'
        head = (f'<thead><tr><th scope="col">{e(lb("dash.engineer"))}</th>'
                f'<th scope="col" class="num">{e(lb("dash_jobs"))}</th></tr></thead>')
        rows = "".join(f'<tr><td>{e(n)}</td><td class="num">{c}</td></tr>'
                       for n, c in load.most_common())
        return f'<table class="load">{head}<tbody>{rows}</tbody></table>'

    def _figures(self, fig: figures.Figures) -> str:
        note = (f'<p class="none">{e(self.lb("empty"))}</p>' if render.is_empty(fig) else "")
        rows = "".join(f'<tr><th scope="row">{e(k)}</th><td>{e(v)}</td></tr>'
                       for k, v in render.rows(fig, self.lb))
        return f'{note}<table class="figures"><tbody>{rows}</tbody></table>'


def version(fig: figures.Figures, lb: render.Labels) -> str:
    """Short digest of what the charts draw (the weeks and every figure)."""
    weeks = [(w.start, sorted(w.by_priority.items()), w.response, w.resolution)
             for w in fig.weeks]
    text = repr((fig.period, render.rows(fig, lb), weeks))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _is_month(choice: str) -> bool:
    return len(choice) == 7 and choice[4] == "-" and choice.replace("-", "").isdigit()
