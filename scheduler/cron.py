"""Cron jobs for reports: the weekly summary (Monday 08:00 site time by default) and the
quarterly fault classification (the first day of each quarter, 08:00 site time).

A run missed while the bot was down is coalesced into one and still runs within the grace
time; the job itself names its run by the site-time day, so replicas that all fire it queue
each message once (see `Desk.run_job`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

GRACE_SECONDS = 12 * 3600  # a report a few hours late is still worth sending
QUARTER_MONTHS = "1,4,7,10"


def parse_weekly(spec: str) -> tuple[str, int, int]:
    """'mon 08:00' → ('mon', 8, 0); days may be a list ('mon,thu 08:30')."""
    try:
        days, at = spec.split()
        hour, minute = (int(x) for x in at.split(":"))
    except ValueError:
        raise ValueError(f"weekly report time {spec!r}: expected e.g. 'mon 08:00'") from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"weekly report time {spec!r}: no such time of day")
    return days.lower(), hour, minute


def add_report_jobs(
    scheduler: AsyncIOScheduler,
    run: Callable[[str], Awaitable[None]],
    tz: str,
    weekly_cron: str = "mon 08:00",
) -> None:
    """Add 'report_weekly' and 'report_quarterly'; `run(name)` does the work."""
    days, hour, minute = parse_weekly(weekly_cron)
    triggers = {
        "weekly": CronTrigger(day_of_week=days, hour=hour, minute=minute, timezone=tz),
        "quarterly": CronTrigger(month=QUARTER_MONTHS, day=1, hour=hour, minute=minute,
                                 timezone=tz),
    }
    for name, trigger in triggers.items():
        scheduler.add_job(
            run, trigger, args=[name], id=f"report_{name}", replace_existing=True,
            coalesce=True, misfire_grace_time=GRACE_SECONDS, max_instances=1,
        )
