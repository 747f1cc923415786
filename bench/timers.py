"""How fast do 1,000 due timers reach the outbox, with 100,000 timers pending?

    .venv/bin/python bench/timers.py [--pending 100000] [--due 1000] [--postgres URL]

Builds a fresh database (SQLite file, or the PostgreSQL URL given: its public schema is
dropped!), 1,000 open P3 tickets whose response deadline has just passed, 99,000 timers due
tomorrow, one service manager; then runs one scheduler sweep and reports the time until
every breach message is in the outbox and the lag from due time to outbox (p50/p99/max).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from handlers import flows
from handlers.core.clock import SystemClock
from handlers.core.config import DeskConfig
from handlers.core.dispatch import Desk, TimerRunner
from handlers.core.texts import Texts
from scheduler.sweep import Sweeper
from storage import migrate, people
from storage.engine import make_engine
from storage.models import Outbox, Role, Ticket, Timer
from storage.uow import Database


async def prepare(db: Database, pending: int, due: int, now: datetime) -> None:
    async with db.transaction() as tx:
        await people.add_person(tx, name="陈经理", role=Role.MANAGER, now=now,
                                identities={"bench": "m1"})
        reporter = await people.add_person(tx, name="李明", role=Role.REPORTER, now=now)
        rows = [dict(reporter_id=reporter.id, description=f"bench {i}", status="paged",
                     priority="P3", created_at=now - timedelta(hours=8),
                     updated_at=now, response_due=now, resolve_due=now + timedelta(hours=16),
                     category="valve", attachments=[], kb_shown=[], impact="single")
                for i in range(due)]
        await tx.session.execute(insert(Ticket), rows)
    timers = [dict(key=f"response_due:{i + 1}", kind="response_due", ticket_id=i + 1,
                   due_at=now, state="pending", payload={}, attempts=0) for i in range(due)]
    later = now + timedelta(days=1)
    timers += [dict(key=f"future:{i}", kind="response_due", ticket_id=None, due_at=later,
                    state="pending", payload={}, attempts=0) for i in range(pending - due)]
    for start in range(0, len(timers), 10_000):
        async with db.transaction() as tx:
            await tx.session.execute(insert(Timer), timers[start:start + 10_000])


async def run(url: str, pending: int, due: int) -> dict[str, float]:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await migrate.upgrade(engine)
    db, clock = Database(engine), SystemClock()
    now = clock.now()
    await prepare(db, pending, due, now)
    desk = Desk(db, clock, DeskConfig(), Texts.for_config(DeskConfig()), flows.routes())
    sweeper = Sweeper(db, clock, TimerRunner(desk), worker_id="bench")
    started, sweep_start = time.perf_counter(), clock.now()
    fired = await sweeper.run_once()
    elapsed = time.perf_counter() - started
    async with db.transaction() as tx:
        created = await tx.scalars(select(Outbox.created_at))
        count = await tx.scalar(select(func.count()).select_from(Outbox))
    await db.dispose()
    # The timers come due as the sweep starts; a sweep interval (5 s default) adds to this.
    lags = sorted((c - sweep_start).total_seconds() for c in created)
    return {"fired": fired, "messages": count, "seconds": elapsed,
            "lag_p50": statistics.median(lags), "lag_p99": lags[int(len(lags) * 0.99) - 1],
            "lag_max": lags[-1]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pending", type=int, default=100_000)
    ap.add_argument("--due", type=int, default=1_000)
    ap.add_argument("--postgres", default="")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        targets = {"sqlite": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"}
        if args.postgres:
            targets["postgresql"] = args.postgres
        print(f"{datetime.now(UTC):%Y-%m-%d} pending={args.pending} due={args.due}")
        for name, url in targets.items():
            r = asyncio.run(run(url, args.pending, args.due))
            print(f"{name:<11} fired {r['fired']:.0f}, {r['messages']:.0f} messages in "
                  f"{r['seconds']:.2f} s; lag due→outbox p50 {r['lag_p50']:.2f} s, "
                  f"p99 {r['lag_p99']:.2f} s, max {r['lag_max']:.2f} s")


if __name__ == "__main__":
    main()
