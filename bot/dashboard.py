"""The managers' read-only dashboard: open tickets with live SLA clocks, breaches, engineer
load, this month's figures and charts. Server-rendered HTML with a little JS, no CDN.

Sign-in (bot/dashboard_tokens.py): `frontline dashboard token` prints a link that works once
and for minutes; `/dashboard/login?token=…` spends it for a session token in an HttpOnly,
SameSite=Strict cookie with its own expiry (Secure when the site is served over TLS). Every
dashboard request checks the session again (none → 401, a wrong, expired or revoked one →
403). `frontline dashboard revoke` ends one sign-in or all. Only digests are kept on disk.
Everything people wrote (sites, names) is HTML-escaped where the page shows it.
"""

from __future__ import annotations

import asyncio
import html
from collections import Counter
from datetime import datetime
from pathlib import Path
from string import Template

from aiohttp import web

from bot.dashboard_tokens import SESSION, check_token, exchange, issue_token
from handlers.core.clock import Clock
from handlers.core.config import DeskConfig
from handlers.core.texts import Texts
from handlers.flows.manager import next_deadline
from handlers.flows.reporting import charts, figures, period, queries, render
from handlers.flows.reporting.rates import Targets
from storage import tickets
from storage.models import Ticket
from storage.uow import Database, Tx

COOKIE = "fl_dashboard"
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
__all__ = ["COOKIE", "Dashboard", "attach_dashboard", "check_token", "issue_token"]


def attach_dashboard(app: web.Application, dash: Dashboard) -> None:
    """Add /dashboard, /dashboard/login, /dashboard/chart/<name>.png and its static files."""
    app.router.add_get("/dashboard", dash.page)
    app.router.add_get("/dashboard/login", dash.login)
    app.router.add_get("/dashboard/chart/{name}.png", dash.chart)
    app.router.add_get("/dashboard/static/{name}", dash.static)


class Dashboard:
    """The pages; `config` gives the company name, the site's zone and the targets."""

    def __init__(self, db: Database, clock: Clock, texts: Texts, config: DeskConfig,
                 files_dir: Path, *, secure: bool = False, session_hours: float = 12) -> None:
        self.db, self.clock, self.texts, self.config = db, clock, texts, config
        self.files_dir, self.secure, self.session_hours = files_dir, secure, session_hours
        self.lb = render.Labels(texts, texts.default, config.company_name)

    async def _valid(self, token: str) -> bool:
        return await asyncio.to_thread(check_token, self.files_dir, token, self.clock.now(),
                                       SESSION)

    async def _refusal(self, request: web.Request) -> web.Response | None:
        token = request.cookies.get(COOKIE, "")
        if not token:
            return self._error(401, "dash_unauthorized")
        if not await self._valid(token):
            return self._error(403, "dash_forbidden")
        return None

    def _error(self, status: int, key: str) -> web.Response:
        body = f"<!doctype html><meta charset=utf-8><title>{status}</title>" \
               f"<p class=refused>{html.escape(self.lb(key))}</p>"
        return web.Response(status=status, text=body, content_type="text/html")

    async def login(self, request: web.Request) -> web.Response:
        """Spend the sign-in link for a session cookie, then show the dashboard."""
        link = request.query.get("token", "")
        if not link:
            return self._error(401, "dash_unauthorized")
        session = await asyncio.to_thread(exchange, self.files_dir, link, self.clock.now(),
                                          self.session_hours)
        if session is None:
            return self._error(403, "dash_forbidden")
        redirect = web.HTTPSeeOther("/dashboard")
        redirect.set_cookie(COOKIE, session, httponly=True, samesite="Strict",
                            path="/dashboard", secure=self.secure or request.secure,
                            max_age=int(self.session_hours * 3600))
        raise redirect

    async def page(self, request: web.Request) -> web.Response:
        if (refused := await self._refusal(request)) is not None:
            return refused
        now = self.clock.now()
        async with self.db.transaction() as tx:
            fig = await self._figures(tx, now)
            open_rows = await tickets.open_tickets(tx)
            names = await queries.names(tx)
        text = await asyncio.to_thread((STATIC / "dashboard.html").read_text, "utf-8")
        body = Template(text).substitute(self._fields(fig, open_rows, names, now))
        return web.Response(text=body, content_type="text/html",
                            headers={"Cache-Control": "no-store"})

    async def _figures(self, tx: Tx, now: datetime) -> figures.Figures:
        span = period.month_to_date(now, self.config.timezone)
        return await figures.compute(tx, span, now, Targets.of(self.config))

    def _fields(self, fig: figures.Figures, rows: list[Ticket], names: dict[int, str],
                now: datetime) -> dict[str, str]:
        lb, e = self.lb, html.escape
        ordered = sorted(rows, key=next_deadline)
        breached = [t for t in ordered if next_deadline(t) <= now]
        load = Counter(names.get(t.assignee_id or 0, lb("unassigned")) for t in rows)
        return {
            "lang": e(lb.lang), "title": e(lb("dash_title")), "now": now.isoformat(),
            "company": e(self.config.company_name), "overdue": e(lb("dash_overdue")),
            "h_open": e(f"{lb('dash_open')} ({len(rows)})"),
            "h_breaches": e(f"{lb('dash_breaches')} ({len(breached)})"),
            "h_load": e(lb("dash_load")), "h_figures": e(f"{lb('dash_figures')} "
                                                          f"{fig.period.label}"),
            "h_charts": e(lb("charts")),
            "open": self._ticket_table(ordered, names, now),
            "breaches": self._ticket_table(breached, names, now),
            "load": "".join(f"<tr><td>{e(n)}</td><td>{c}</td></tr>"
                            for n, c in load.most_common()) or "<tr><td>-</td></tr>",
            "figures": "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>"
                               for k, v in render.rows(fig, lb)),
            "charts": "".join(f'<img alt="{e(lb("chart_" + n))}" src="/dashboard/chart/{n}.png">'
                              for n in charts.NAMES),
        }

    def _ticket_table(self, rows: list[Ticket], names: dict[int, str], now: datetime) -> str:
        lb, e = self.lb, html.escape
        if not rows:
            return f'<p class="none">{e(lb("dash_none"))}</p>'
        head = "".join(f"<th>{e(lb(k))}</th>" for k in (
            "dash_number", "dash_priority", "dash_status", "dash_site", "dash_assignee",
            "dash_clock", "dash_due", "dash_left"))
        body = [self._ticket_row(t, names, now) for t in rows]
        return f"<table class=tickets><tr>{head}</tr>{''.join(body)}</table>"

    def _ticket_row(self, t: Ticket, names: dict[int, str], now: datetime) -> str:
        lb, e, due = self.lb, html.escape, next_deadline(t)
        clock = lb("dash_respond" if t.responded_at is None else "dash_resolve")
        cells = [tickets.number(t.id or 0), lb.name("priority", t.priority),
                 lb.name("status", t.status), t.site or "-",
                 names.get(t.assignee_id or 0, lb("unassigned")), clock,
                 self.texts.time(lb.lang, due)]
        tds = "".join(f"<td>{e(c)}</td>" for c in cells)
        late = " overdue" if due <= now else ""
        return (f'<tr class="ticket{late}">{tds}'
                f'<td class="left" data-due="{due.isoformat()}">-</td></tr>')

    async def chart(self, request: web.Request) -> web.Response:
        if (refused := await self._refusal(request)) is not None:
            return refused
        name = request.match_info["name"]
        if name not in charts.NAMES:
            raise web.HTTPNotFound()
        now = self.clock.now()
        async with self.db.transaction() as tx:
            fig = await self._figures(tx, now)
        data = await charts.png_async(fig, self.lb, name)
        return web.Response(body=data, content_type="image/png")

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC_FILES:  # a fixed list: no path ever reaches the file system
            raise web.HTTPNotFound()
        data = await asyncio.to_thread((STATIC / name).read_bytes)
        return web.Response(body=data, content_type=STATIC_FILES[name])
