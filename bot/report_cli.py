"""`frontline report` and `frontline dashboard token|revoke`.

    frontline report --period 2026-Q3 [--format table|markdown|csv|json] [--charts DIR]
    frontline report --from 2026-11-01 --to 2026-11-30 --format markdown --charts out/
    frontline report --period 2026-Q3 --site 一号园区 [--site 二号园区]   those sites only
    frontline dashboard token [--minutes 15]     a sign-in link: works once, for minutes
    frontline dashboard token --site 一号园区      … a manager's: those sites only
    frontline dashboard revoke ID|LINK|TOKEN     end that sign-in (link and sessions)
    frontline dashboard revoke --all             end every sign-in

Periods are whole days in the site's time zone (FRONTLINE_TIMEZONE). The scheduled weekly and
quarterly pushes are in scheduler/jobs.py.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from bot import bootstrap
from bot.settings import Settings, from_args
from handlers.core import escape
from handlers.core.clock import Clock, SystemClock
from handlers.core.escape import visible
from handlers.flows.jobs import sites as scopes
from handlers.flows.reporting import charts, figures, period, render
from handlers.flows.reporting.rates import Targets
from storage import sites
from storage.uow import Tx

FORMATS = ("table", "markdown", "csv", "json")


def add_commands(sub: Any) -> None:
    """Register `report` and `dashboard` on the `frontline` sub-command parser."""
    rep = sub.add_parser("report", help="service figures for a period (SLA, satisfaction …)")
    rep.add_argument("--period", help="2026-Q3, 2026-11, 2026-W47 or a day 2026-11-23")
    rep.add_argument("--from", dest="date_from", help="first day, e.g. 2026-11-01")
    rep.add_argument("--to", dest="date_to", help="last day (inclusive), e.g. 2026-11-30")
    rep.add_argument("--format", choices=FORMATS, default="table")
    rep.add_argument("--charts", type=Path, help="write PNG charts into this folder")
    rep.add_argument("--lang", choices=["zh", "en"], help="labels (default: the site's)")
    rep.add_argument("--site", action="append",
                     help="only these sites (repeat it, or A,B); `all` = every site (default)")
    rep.set_defaults(func=lambda args: asyncio.run(cmd_report(args)), db="read")

    dash = sub.add_parser("dashboard", help="the managers' web dashboard")
    dsub = dash.add_subparsers(dest="dashboard_cmd", required=True)
    tok = dsub.add_parser("token", help="a sign-in link: works once, for a few minutes")
    tok.add_argument("--minutes", type=float,
                     help="valid this long (default FRONTLINE_DASHBOARD_LINK_MINUTES, 15)")
    tok.add_argument("--site", action="append",
                     help="a manager's sign-in: only these sites (repeat it, or A,B)")
    tok.set_defaults(func=cmd_dashboard_token)
    rev = dsub.add_parser("revoke", help="end a sign-in (its link and sessions), or all")
    which = rev.add_mutually_exclusive_group(required=True)
    which.add_argument("token", nargs="?", metavar="ID|LINK|TOKEN",
                       help="the id printed with the link, the link, or a token")
    which.add_argument("--all", action="store_true", help="every link and every session")
    rev.set_defaults(func=cmd_dashboard_revoke)


def chosen_period(args: argparse.Namespace, zone: str) -> period.Period:
    if args.period and not (args.date_from or args.date_to):
        return period.parse(args.period, zone)
    if args.date_from and args.date_to and not args.period:
        return period.between(args.date_from, args.date_to, zone)
    raise period.PeriodError("give either --period or both --from and --to")


async def report_text(
    settings: Settings, args: argparse.Namespace, clock: Clock | None = None
) -> str:
    """The report in the chosen format; charts written first so Markdown can link them."""
    span = chosen_period(args, settings.timezone)
    wanted = sites.parse(args.site or [])
    now = (clock or SystemClock()).now()
    db = bootstrap.make_database(settings)
    try:
        async with db.transaction() as tx:
            chosen = await known_sites(tx, wanted)
            fig = await figures.compute(tx, span, now, Targets.of(settings), chosen)
    finally:
        await db.dispose()
    texts = bootstrap.make_texts(settings)
    lb = render.Labels(texts, args.lang or settings.default_language, settings.company_name)
    links: dict[str, str] = {}
    if args.charts:
        written = await charts.write_async(fig, lb, args.charts)
        links = {name: path.name for name, path in written.items()}
    text = {
        "table": lambda: render.table(fig, lb),
        "markdown": lambda: render.markdown(fig, lb, links),
        "csv": lambda: render.as_csv(fig),
        "json": lambda: render.as_json(fig),
    }[args.format]()
    return with_sites(text, args.format, chosen, lb)


async def known_sites(tx: Tx, wanted: list[str]) -> tuple[str, ...]:
    """The desk's own spelling of each site asked for (() = every site). A site it has never
    heard of is refused, naming those it has: a typo would otherwise be an empty report."""
    if not wanted:
        return ()
    known = await sites.known(tx)
    unknown = [s for s in wanted if sites.named(known, s) is None]
    if unknown:
        raise sites.ScopeError(f"no site {', '.join(map(repr, unknown))}; the sites known are "
                               f"{', '.join(known) or 'none yet'}")
    return tuple(s for s in (sites.named(known, w) for w in wanted) if s)


def with_sites(text: str, fmt: str, chosen: tuple[str, ...], lb: render.Labels) -> str:
    """The report named as limited to `chosen` (as /report heads it in chat); unchanged for
    every site. CSV gets `scope,sites.N,SITE` rows and JSON a "sites" list, for machines."""
    if not chosen:
        return text
    heading = lb.texts(lb.lang, "sites.heading", sites=scopes.listing(chosen))
    if fmt == "table":
        return f"{heading}\n{text}"
    if fmt == "markdown":
        title, _, rest = text.partition("\n")
        return f"{title}\n\n{escape.markdown(heading, inline=True)}\n{rest}"
    if fmt == "csv":
        header, _, rest = text.partition("\n")
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(
            [escape.csv_cell(c) for c in ("scope", f"sites.{i}", site)]
            for i, site in enumerate(chosen))
        return f"{header}\n{buf.getvalue()}{rest}"
    return json.dumps({"sites": list(chosen), **json.loads(text)}, ensure_ascii=False,
                      indent=2) + "\n"


async def cmd_report(args: argparse.Namespace) -> int:
    try:
        text = await report_text(from_args(args), args)
    except period.PeriodError as exc:
        print(f"frontline report: {exc}", file=sys.stderr)
        return 2
    except sites.ScopeError as exc:
        print(visible(f"frontline report: --site: {exc}"), file=sys.stderr)
        return 2
    if args.format in ("table", "markdown"):  # for a terminal: names never act on it
        text = "\n".join(visible(line) for line in text.split("\n"))
    sys.stdout.write(text)
    return 0


def cmd_dashboard_token(args: argparse.Namespace) -> int:
    from bot.dashboard_tokens import issue_token, token_id

    settings = from_args(args)
    minutes = args.minutes if args.minutes is not None else settings.dashboard_link_minutes
    if minutes <= 0:
        print("frontline dashboard token: --minutes must be more than 0", file=sys.stderr)
        return 2
    try:
        scope = tuple(sites.parse(args.site or []))
    except sites.ScopeError as exc:
        print(visible(f"frontline dashboard token: --site: {exc}"), file=sys.stderr)
        return 2
    token = issue_token(settings.files_dir, SystemClock().now(), minutes, scope)
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    print(f"{base}/dashboard/login?token={token}")
    print(f"open it within {minutes:g} minutes, once: it signs this browser in for "
          f"{settings.dashboard_session_hours:g} hours. To end this sign-in: "
          f"frontline dashboard revoke {token_id(token)}", file=sys.stderr)
    return 0


def cmd_dashboard_revoke(args: argparse.Namespace) -> int:
    from bot.dashboard_tokens import revoke

    settings = from_args(args)
    gone = revoke(settings.files_dir, None if args.all else args.token, SystemClock().now())
    if not gone and not args.all:
        print("no such sign-in (already revoked, or expired)", file=sys.stderr)
        return 1
    print(f"revoked {gone} token(s)")
    return 0
