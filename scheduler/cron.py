"""Cron triggers from the settings' site-time specs: a daily time ('08:00') and a weekly one
('mon 08:00', 'mon,thu 08:30'). The quarterly classification runs at the weekly time on the
first day of each quarter. What runs on them is in scheduler/jobs.py.
"""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger

QUARTER_MONTHS = "1,4,7,10"


def parse_daily(spec: str) -> tuple[int, int]:
    """'08:00' → (8, 0)."""
    try:
        hour, minute = (int(x) for x in spec.strip().split(":"))
    except ValueError:
        raise ValueError(f"daily time {spec!r}: expected e.g. '08:00'") from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"daily time {spec!r}: no such time of day")
    return hour, minute


def parse_weekly(spec: str) -> tuple[str, int, int]:
    """'mon 08:00' → ('mon', 8, 0); days may be a list ('mon,thu 08:30') or a range."""
    try:
        days, at = spec.split()
        hour, minute = parse_daily(at)
        CronTrigger(day_of_week=days.lower())  # refuses days it does not know
    except ValueError:
        raise ValueError(f"weekly report time {spec!r}: expected e.g. 'mon 08:00'") from None
    return days.lower(), hour, minute


def daily(spec: str, tz: str) -> CronTrigger:
    hour, minute = parse_daily(spec)
    return CronTrigger(hour=hour, minute=minute, timezone=tz)


def weekly(spec: str, tz: str) -> CronTrigger:
    days, hour, minute = parse_weekly(spec)
    return CronTrigger(day_of_week=days, hour=hour, minute=minute, timezone=tz)


def quarterly(spec: str, tz: str) -> CronTrigger:
    """The first day of each quarter, at the weekly spec's time of day."""
    _, hour, minute = parse_weekly(spec)
    return CronTrigger(month=QUARTER_MONTHS, day=1, hour=hour, minute=minute, timezone=tz)
