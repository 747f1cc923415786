"""`frontline devices import FILE` and `frontline devices list`: the monitored devices.

    frontline devices import devices.csv     add or update from the orchard's registry
    frontline devices list [--unregistered]  what the desk knows (seen in alarms: flagged)

A registry with problems is refused whole: one line per problem (file:line: reason), exit 2.
The running bot reads FRONTLINE_DEVICES_FILE at start; importing tells a running desk nothing
it would not read from the database at the next alarm.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from bot import bootstrap
from bot.settings import Settings
from handlers.core.clock import SystemClock
from handlers.core.escape import visible
from handlers.flows.alarms import registry
from handlers.rules import devices
from storage.models import Device


def add_commands(sub: Any) -> None:
    dev = sub.add_parser("devices", help="the monitored devices (the registry for alarms)")
    dsub = dev.add_subparsers(dest="devices_cmd", required=True)
    imp = dsub.add_parser("import", help="add or update devices from a TOML or CSV registry")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=lambda args: asyncio.run(cmd_import(args)), db="write")
    lst = dsub.add_parser("list", help="the devices the desk knows")
    lst.add_argument("--unregistered", action="store_true",
                     help="only devices first seen in an alarm, not in the registry")
    lst.set_defaults(func=lambda args: asyncio.run(cmd_list(args)), db="read")


class Progress:
    """One line on stderr, rewritten at most twice a second: done, share, time left."""

    def __init__(self, total: int, what: str) -> None:
        self.total, self.what = total, what
        self.started = self.shown = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.shown < 0.5 and done < self.total:
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-6)
        left = (self.total - done) / rate if rate else 0
        print(f"\r{self.what}: {done}/{self.total} ({100 * done // max(self.total, 1)} %), "
              f"about {left:.0f} s left ", end="", file=sys.stderr, flush=True)
        if done >= self.total:
            print(file=sys.stderr)


async def cmd_import(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    try:
        rows = devices.read(args.file)
    except devices.RegistryError as exc:
        for problem in exc.problems:
            print(visible(str(problem)), file=sys.stderr)
        return 2
    print(f"{len(rows)} devices in {args.file.name}; writing …", file=sys.stderr)
    db = bootstrap.make_database(settings)
    desk = bootstrap.make_desk(settings, db, SystemClock())
    progress = Progress(len(rows), "devices")
    result: list[tuple[int, int]] = []

    async def job(ctx: Any) -> None:
        result.append(await registry.store(ctx, rows, progress))

    try:
        await desk.run_job(f"devices-import:{time.time_ns()}", job)
    finally:
        await db.dispose()
    added, updated = result[0]
    print(f"devices: {added} added, {updated} updated")
    return 0


async def cmd_list(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    db = bootstrap.make_database(settings)
    try:
        async with db.transaction() as tx:
            stmt = select(Device).order_by(col(Device.site), col(Device.id))
            if args.unregistered:
                stmt = stmt.where(col(Device.registered).is_(False))
            rows = await tx.scalars(stmt)
    finally:
        await db.dispose()
    zone = settings.zone
    print(f"id\tname\ttype\tsite\tplot\tparent\theartbeat\tlast heartbeat ({settings.timezone})"
          "\tregistered")
    for d in rows:
        beat = d.last_heartbeat.astimezone(zone).strftime("%m-%d %H:%M") \
            if d.last_heartbeat else "-"
        cells = [d.id, d.name, d.type, d.site, d.plot, d.parent,
                 f"{d.heartbeat_minutes} min" if d.heartbeat_minutes else "-", beat,
                 "yes" if d.registered else "no (seen in an alarm)"]
        print("\t".join(visible(c) or "-" for c in cells))
    return 0
