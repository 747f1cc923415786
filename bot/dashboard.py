"""The managers' read-only dashboard: open tickets with live SLA clocks, breaches, engineer
load, and a chosen period's figures and charts. Server-rendered HTML (bot/dashboard_view.py)
with a little JS, no CDN.

Sign-in (bot/dashboard_tokens.py): `frontline dashboard token` prints a link that works once
and for minutes; `/dashboard/login?token=…` spends it for a session token in an HttpOnly,
SameSite=Strict cookie with its own expiry (Secure when the site is served over TLS). Every
dashboard request checks the session again (none → 401, a wrong, expired or revoked one →
403). `frontline dashboard revoke` ends one sign-in or all. Only digests are kept on disk.

Period: `?period=` takes a preset (month, last-month, 7d, 30d) or anything `/report` reads
(2026-11, 2026-Q3, 2026-W47, a day), defined once in handlers/flows/reporting/period.py;
anything else is a 400 that says which forms work. Site: `?site=` one site (of the sign-in's,
when `frontline dashboard token --site` limited it; those are the default) or `all`; a site
the sign-in may not see is a 403, one nobody knows a 400. Live: the page's script asks
`/dashboard/data.json` (same session check, same period) every REFRESH_SECONDS and swaps in
the fragments it sends; a 401/403 there stops the refresh and the page says so.
"""

from __future__ import annotations

import asyncio
import html
import json
from pathlib import Path
from string import Template

from aiohttp import web

from bot.dashboard_tokens import SESSION, Grant, check_token, exchange, issue_token, sign_in
from bot.dashboard_view import Snapshot, View, query
from handlers.core.clock import Clock
from handlers.core.config import DeskConfig
from handlers.core.errors import DeskError, NotAllowed
from handlers.core.texts import Texts
from handlers.flows.jobs import sites as scopes
from handlers.flows.reporting import charts, figures, period, queries, render
from handlers.flows.reporting.rates import Targets
from storage import sites, tickets
from storage.uow import Database

COOKIE = "fl_dashboard"
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
REFRESH_SECONDS = 30
MAX_PERIOD_CHARS = 40  # longer is no period; the refusal quotes it, so it stays short
MAX_SITE_CHARS = 100  # Person.site's width: longer names no site
SITES = web.RequestKey("sites", tuple)  # the signed-in session's sites; () = every site
__all__ = ["COOKIE", "Dashboard", "attach_dashboard", "check_token", "issue_token"]


def attach_dashboard(app: web.Application, dash: Dashboard) -> None:
    """Add /dashboard, /dashboard/login, /dashboard/data.json, /dashboard/chart/<name>.png
    and its static files."""
    app.router.add_get("/dashboard", dash.page)
    app.router.add_get("/dashboard/login", dash.login)
    app.router.add_get("/dashboard/data.json", dash.data)
    app.router.add_get("/dashboard/chart/{name}.png", dash.chart)
    app.router.add_get("/dashboard/static/{name}", dash.static)


class BadPeriod(Exception):
    """`?period=` named no period; the message says so in the page's language."""


class BadSite(Exception):
    """`?site=` named no site this sign-in may see (400), or one of another manager (403)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Dashboard:
    """The pages; `config` gives the company name, the site's zone and the targets."""

    def __init__(self, db: Database, clock: Clock, texts: Texts, config: DeskConfig,
                 files_dir: Path, *, secure: bool = False, session_hours: float = 12) -> None:
        self.db, self.clock, self.texts, self.config = db, clock, texts, config
        self.files_dir, self.secure, self.session_hours = files_dir, secure, session_hours
        self.lb = render.Labels(texts, texts.default, config.company_name)
        self.view = View(texts, self.lb, config.timezone)

    async def _valid(self, token: str) -> Grant | None:
        return await asyncio.to_thread(sign_in, self.files_dir, token, self.clock.now(),
                                       SESSION)

    async def _refusal(self, request: web.Request, as_json: bool = False) -> web.Response | None:
        """None when the session is live (its sites are then `request[SITES]`)."""
        token = request.cookies.get(COOKIE, "")
        if not token:
            return self._error(401, self.lb("dash_unauthorized"), as_json)
        grant = await self._valid(token)
        if grant is None:
            return self._error(403, self.lb("dash_forbidden"), as_json)
        request[SITES] = grant.sites
        return None

    def _error(self, status: int, message: str, as_json: bool = False,
               back: bool = False) -> web.Response:
        if as_json:
            return web.json_response({"error": message}, status=status,
                                     headers={"Cache-Control": "no-store"},
                                     dumps=lambda d: json.dumps(d, ensure_ascii=False))
        link = (f'<p><a href="/dashboard">{html.escape(self.lb("dash.back"))}</a></p>'
                if back else "")
        body = (f'<!doctype html><html lang="{html.escape(self.lb.lang)}"><meta charset=utf-8>'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{status}</title>"
                '<link rel="stylesheet" href="/dashboard/static/dashboard.css">'
                f"<main><section><p class=refused>{html.escape(message)}</p>{link}</section>"
                "</main></html>")
        return web.Response(status=status, text=body, content_type="text/html")

    def _period(self, request: web.Request) -> tuple[str, period.Period]:
        """The period the URL names, and how links should name it again."""
        raw = request.query.get("period", "")
        shown = raw if len(raw) <= MAX_PERIOD_CHARS else raw[:MAX_PERIOD_CHARS] + "…"
        try:
            if len(raw) > MAX_PERIOD_CHARS:
                raise period.PeriodError(raw)
            span = period.chosen(raw, self.clock.now(), self.config.timezone)
        except period.PeriodError:
            raise BadPeriod(self.lb("dash.bad_period", value=shown)) from None
        key = raw.strip().lower() or "month"
        return (key if key in period.PRESETS else span.label), span

    async def login(self, request: web.Request) -> web.Response:
        """Spend the sign-in link for a session cookie, then show the dashboard."""
        link = request.query.get("token", "")
        if not link:
            return self._error(401, self.lb("dash_unauthorized"))
        session = await asyncio.to_thread(exchange, self.files_dir, link, self.clock.now(),
                                          self.session_hours)
        if session is None:
            return self._error(403, self.lb("dash_forbidden"))
        redirect = web.HTTPSeeOther("/dashboard")
        redirect.set_cookie(COOKIE, session, httponly=True, samesite="Strict",
                            path="/dashboard", secure=self.secure or request.secure,
                            max_age=int(self.session_hours * 3600))
        raise redirect

    def _site(self, request: web.Request, known: list[str]) -> tuple[str, tuple[str, ...]]:
        """The sites `?site=` names within this sign-in's (default: all of them), and how
        links should name the choice again ("" = the default)."""
        mine: tuple[str, ...] = request.get(SITES, ())
        raw = request.query.get("site", "")
        try:
            chosen = scopes.pick(mine, known, raw[:MAX_SITE_CHARS + 1])
        except DeskError as refused:
            raise BadSite(self.texts(self.lb.lang, refused.text_key, **refused.fields),
                          403 if isinstance(refused, NotAllowed) else 400) from None
        return (" ".join(raw.split()) if raw.strip() else ""), chosen

    async def _snapshot(self, request: web.Request) -> Snapshot:
        choice, span = self._period(request)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            known = await sites.known(tx)
            site, chosen = self._site(request, known)
            fig = await figures.compute(tx, span, now, Targets.of(self.config), chosen)
            open_rows = [t for t in await tickets.open_tickets(tx)
                         if sites.covers(chosen, t.site)]
            names = await queries.names(tx)
        mine: tuple[str, ...] = request.get(SITES, ())
        return Snapshot(fig, open_rows, names, now, choice, site, mine or tuple(known),
                        bool(mine))

    async def page(self, request: web.Request) -> web.Response:
        if (refused := await self._refusal(request)) is not None:
            return refused
        try:
            snap = await self._snapshot(request)
        except BadPeriod as exc:
            return self._error(400, str(exc), back=True)
        except BadSite as exc:
            return self._error(exc.status, str(exc), back=True)
        text = await asyncio.to_thread((STATIC / "dashboard.html").read_text, "utf-8")
        body = Template(text).substitute(self._fields(snap))
        return web.Response(text=body, content_type="text/html",
                            headers={"Cache-Control": "no-store"})

    def _fields(self, snap: Snapshot) -> dict[str, str]:
        lb, e = self.lb, html.escape
        return {
            **self.view.parts(snap),
            "lang": e(lb.lang), "title": e(lb("dash_title")), "now": snap.now.isoformat(),
            "company": e(self.config.company_name), "overdue": e(lb("dash_overdue")),
            "refresh": str(REFRESH_SECONDS),
            "source": e(f"/dashboard/data.json?{query(snap.choice, snap.site)}"),
            "failed": e(lb("dash.refresh_failed")), "ended": e(lb("dash.signed_out")),
            "h_load": e(lb("dash_load")), "h_charts": e(lb("charts")),
            "periods": self.view.periods(snap.choice, snap.now, self.config.timezone,
                                         snap.site),
            "sites": self.view.sites(snap),
            "charts": self.view.charts(snap),
        }

    async def data(self, request: web.Request) -> web.Response:
        """What the page's script swaps in every REFRESH_SECONDS (same session check)."""
        if (refused := await self._refusal(request, as_json=True)) is not None:
            return refused
        try:
            snap = await self._snapshot(request)
        except BadPeriod as exc:
            return self._error(400, str(exc), as_json=True)
        except BadSite as exc:
            return self._error(exc.status, str(exc), as_json=True)
        payload = {"now": snap.now.isoformat(), "period": snap.choice,
                   "parts": self.view.parts(snap), "charts": self.view.chart_urls(snap)}
        return web.json_response(payload, headers={"Cache-Control": "no-store"},
                                 dumps=lambda d: json.dumps(d, ensure_ascii=False))

    async def chart(self, request: web.Request) -> web.Response:
        if (refused := await self._refusal(request)) is not None:
            return refused
        name = request.match_info["name"]
        if name not in charts.NAMES:
            raise web.HTTPNotFound()
        try:
            snap = await self._snapshot(request)
        except (BadPeriod, BadSite) as exc:
            return web.Response(status=getattr(exc, "status", 400), text=str(exc))
        narrow = request.query.get("size") == "narrow"
        data = await charts.png_async(snap.fig, self.lb, name, narrow)
        return web.Response(body=data, content_type="image/png",
                            headers={"Cache-Control": "no-store"})

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC_FILES:  # a fixed list: no path ever reaches the file system
            raise web.HTTPNotFound()
        data = await asyncio.to_thread((STATIC / name).read_bytes)
        return web.Response(body=data, content_type=STATIC_FILES[name])
