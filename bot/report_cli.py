"""`frontline report` and `frontline dashboard token|revoke`.

    frontline report --period 2026-Q3 [--format table|markdown|csv|json] [--charts DIR]
    frontline report --from 2026-11-01 --to 2026-11-30 --format markdown --charts out/
    frontline dashboard token [--minutes 15]     a sign-in link: works once, for minutes
    frontline dashboard revoke ID|LINK|TOKEN     end that sign-in (link and sessions)
    frontline dashboard revoke --all             end every sign-in

Periods are whole days in the site's time zone (FRONTLINE_TIMEZONE). The scheduled weekly and
quarterly pushes are in scheduler/jobs.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot import bootstrap
from bot.settings import Settings, from_args
from handlers.core.clock import Clock, SystemClock
from handlers.core.escape import visible
from handlers.flows.reporting import charts, figures, period, render
from handlers.flows.reporting.rates import Targets

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
    rep.set_defaults(func=lambda args: asyncio.run(cmd_report(args)), db="read")

    dash = sub.add_parser("dashboard", help="the managers' web dashboard")
    dsub = dash.add_subparsers(dest="dashboard_cmd", required=True)
    tok = dsub.add_parser("token", help="a sign-in link: works once, for a few minutes")
    tok.add_argument("--minutes", type=float,
                     help="valid this long (default FRONTLINE_DASHBOARD_LINK_MINUTES, 15)")
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
    now = (clock or SystemClock()).now()
    db = bootstrap.make_database(settings)
    try:
        async with db.transaction() as tx:
            fig = await figures.compute(tx, span, now, Targets.of(settings))
    finally:
        await db.dispose()
    texts = bootstrap.make_texts(settings)
    lb = render.Labels(texts, args.lang or settings.default_language, settings.company_name)
    links: dict[str, str] = {}
    if args.charts:
        written = await charts.write_async(fig, lb, args.charts)
        links = {name: path.name for name, path in written.items()}
    return {
        "table": lambda: render.table(fig, lb),
        "markdown": lambda: render.markdown(fig, lb, links),
        "csv": lambda: render.as_csv(fig),
        "json": lambda: render.as_json(fig),
    }[args.format]()


async def cmd_report(args: argparse.Namespace) -> int:
    try:
        text = await report_text(from_args(args), args)
    except period.PeriodError as exc:
        print(f"frontline report: {exc}", file=sys.stderr)
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
    token = issue_token(settings.files_dir, SystemClock().now(), minutes)
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
