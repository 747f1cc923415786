"""`frontline inspections list|show|report`: the scheduled inspections (定期巡检).

    frontline inspections list                the plans of FRONTLINE_INSPECTIONS_FILE, next due
    frontline inspections show RUN            one round: who, when, every reading, its tickets
    frontline inspections report [--period P | --from D --to D] [--format table|csv]
                                              per plan: due, done (late), missed, open, faults

Times are in the site's zone. A plans file with problems stops every `frontline` command
before it starts (file:line: reason), like any other bad setting.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
from datetime import datetime
from typing import Any

from bot import bootstrap
from bot.report_cli import chosen_period
from bot.settings import Settings
from handlers.core.clock import SystemClock
from handlers.core.escape import csv_cell, visible
from handlers.flows.inspections.base import occurs_key
from handlers.flows.reporting import inspections as figures
from handlers.flows.reporting import period
from handlers.rules.inspections import Item
from storage import inspections, people, tickets
from storage.models import InspectionReading, InspectionRun, TimerState

COLUMNS = ("due", "done", "late", "missed", "open", "faults", "tickets")


def add_commands(sub: Any) -> None:
    ins = sub.add_parser("inspections", help="scheduled inspections: plans, rounds, figures")
    isub = ins.add_subparsers(dest="inspections_cmd", required=True)
    isub.add_parser("list", help="the plans and when each is next due") \
        .set_defaults(func=lambda args: asyncio.run(cmd_list(args)), db="read")
    show = isub.add_parser("show", help="one round with its readings and tickets")
    show.add_argument("run", help="the round's number (see `report` or the chat)")
    show.set_defaults(func=lambda args: asyncio.run(cmd_show(args)), db="read")
    rep = isub.add_parser("report", help="rounds done, missed and faults found per plan")
    rep.add_argument("--period", help="2026-Q3, 2026-11, 2026-W47, a day, or month / 7d …")
    rep.add_argument("--from", dest="date_from", help="first day, e.g. 2026-11-01")
    rep.add_argument("--to", dest="date_to", help="last day (inclusive)")
    rep.add_argument("--format", choices=("table", "csv"), default="table")
    rep.set_defaults(func=lambda args: asyncio.run(cmd_report(args)), db="read")


def _local(when: datetime | None, settings: Settings) -> str:
    return when.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M") if when else "-"


async def cmd_list(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    plans = settings.inspection_plans
    if not len(plans):
        print("no inspection plans: set FRONTLINE_INSPECTIONS_FILE (an example is "
              "handlers/policies/inspections.toml)", file=sys.stderr)
        return 1
    db = bootstrap.make_database(settings)
    try:
        async with db.transaction() as tx:
            timers = {p.key: await inspections.timer(tx, occurs_key(p.key)) for p in plans}
    finally:
        await db.dispose()
    now = SystemClock().now()
    print(f"plan\tname\tsite\tschedule\tskills\titems\tnext due ({settings.timezone})")
    for p in plans:
        timer = timers[p.key]
        if timer is not None and timer.state == TimerState.PENDING:
            due = _local(timer.due_at, settings)
        else:  # the bot schedules it when it starts
            due = f"{_local(p.schedule.next_after(now, settings.zone), settings)} (not yet " \
                  "scheduled: the bot schedules it at start)"
        cells = [p.key, p.label(settings.default_language), p.site, p.schedule.describe(),
                 ",".join(p.skills) or "-", str(len(p.items)), due]
        print("\t".join(visible(c) for c in cells))
    return 0


async def cmd_show(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    run_id = int(args.run) if args.run.isdigit() and int(args.run) < 2**31 else 0
    db = bootstrap.make_database(settings)
    try:
        async with db.transaction() as tx:
            run = await inspections.get(tx, run_id) if run_id else None
            found = await inspections.readings(tx, run_id) if run is not None else []
            names = {p.id: p.name for p in await people.people(tx)}
    finally:
        await db.dispose()
    if run is None:
        print(f"no inspection round {visible(args.run)}", file=sys.stderr)
        return 1
    print(show_text(run, found, names, settings))
    return 0


def show_text(run: InspectionRun, found: list[InspectionReading], names: dict[Any, str],
              settings: Settings) -> str:
    lines = [
        f"round {run.id}: {run.plan_name} ({run.plan_key}) at {run.site or '-'}",
        f"state: {run.state}, {run.current_item}/{len(run.items)} items answered",
        f"engineer: {names.get(run.assignee_id, '-')}",
        f"due {_local(run.due_at, settings)}, deadline {_local(run.deadline, settings)}, "
        f"started {_local(run.started_at, settings)}, finished {_local(run.finished_at, settings)}"
        f" (times in {settings.timezone})",
        "", "item\tkind\treading\tnormal\tticket",
    ]
    by_key = {r.item_key: r for r in found}
    for item in (Item.of(d) for d in run.items):
        r = by_key.get(item.key)
        ticket = tickets.number(r.ticket_id) if r is not None and r.ticket_id else "-"
        cells = [item.label(settings.default_language), item.kind, _reading(item, r),
                 "-" if r is None else ("yes" if r.ok else "NO"), ticket]
        lines.append("\t".join(visible(c) for c in cells))
    return "\n".join(lines)


def _reading(item: Item, r: InspectionReading | None) -> str:
    if r is None:
        return "(not answered)"
    if r.number is not None:
        return f"{r.number:g} {item.unit}".strip()
    if r.photo:
        return f"photo {r.photo.get('name') or r.photo.get('key', '')}"
    if item.kind == "pass_fail":
        return ("ok" if r.ok else "fault") + (f": {r.value}" if r.value else "")
    return r.value or "(skipped)"


async def cmd_report(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    now = SystemClock().now()
    try:
        span = chosen_period(args, settings.timezone) if (args.period or args.date_from
                                                           or args.date_to) \
            else period.chosen("month", now, settings.timezone)
    except period.PeriodError as exc:
        print(f"frontline inspections report: {exc}", file=sys.stderr)
        return 2
    db = bootstrap.make_database(settings)
    try:
        async with db.transaction() as tx:
            counts = await figures.compute(tx, span)
    finally:
        await db.dispose()
    names = {p.key: p.label(settings.default_language) for p in settings.inspection_plans}
    rows = [[key, names.get(key, key), *(getattr(c, k) for k in COLUMNS)]
            for key, c in sorted(counts.plans.items())]
    rows.append(["all", "", *(getattr(counts, k) for k in COLUMNS)])
    if args.format == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["plan", "name", *COLUMNS])
        writer.writerows([csv_cell(c) for c in row] for row in rows)
        sys.stdout.write(buf.getvalue())
        return 0
    print(f"inspections {span.label}: {span.first_day} .. {span.last_day} ({span.zone})")
    print("\t".join(["plan", "name", *COLUMNS]))
    for row in rows:
        print("\t".join(visible(str(c)) for c in row))
    return 0
