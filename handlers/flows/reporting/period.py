"""Reporting periods: what a person types (2026-Q3, 2026-11, 2026-W47, from/to days) → UTC bounds.

A period is always whole days in the site's time zone, so "November" for an orchard in
Shanghai starts at 2026-10-31 16:00 UTC. `start` is inclusive and `end` exclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


class PeriodError(ValueError):
    """The text is not a period we understand (the message says which forms are)."""


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    zone: str

    def contains(self, when: datetime | None) -> bool:
        return when is not None and self.start <= when < self.end

    @property
    def first_day(self) -> date:
        return self.start.astimezone(ZoneInfo(self.zone)).date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).astimezone(ZoneInfo(self.zone)).date()


def _midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def days(first: date, last: date, zone: str, label: str = "") -> Period:
    """The days first..last inclusive, in the site's zone."""
    if last < first:
        raise PeriodError(f"period ends ({last}) before it starts ({first})")
    return Period(label or f"{first}..{last}", _midnight(first, zone),
                  _midnight(last + timedelta(days=1), zone), zone)


def parse(text: str, zone: str) -> Period:
    """2026-Q3, 2026-11, 2026-W47 (ISO week), or a single day 2026-11-23."""
    try:
        return _parse(text.strip(), zone)
    except PeriodError:
        raise
    except (ValueError, OverflowError):  # year 0 or 9999-12: past what dates can hold
        raise PeriodError(f"not a period we can count: {text.strip()!r}") from None


def _parse(s: str, zone: str) -> Period:
    if m := _QUARTER.match(s):
        year, q = int(m[1]), int(m[2])
        first = date(year, 3 * q - 2, 1)
        return days(first, _month_end(year, 3 * q), zone, f"{year}-Q{q}")
    if (m := _MONTH.match(s)) and 1 <= int(m[2]) <= 12:
        year, month = int(m[1]), int(m[2])
        return days(date(year, month, 1), _month_end(year, month), zone, f"{year}-{month:02d}")
    if m := _WEEK.match(s):
        return week(int(m[1]), int(m[2]), zone)
    try:
        day = date.fromisoformat(s)
    except ValueError:
        raise PeriodError(f"not a period: {s!r} (use 2026-Q3, 2026-11, 2026-W47 "
                          "or a day 2026-11-23)") from None
    return days(day, day, zone, str(day))


def between(date_from: str, date_to: str, zone: str) -> Period:
    """--from D --to D, both days inclusive."""
    try:
        first, last = date.fromisoformat(date_from), date.fromisoformat(date_to)
    except ValueError:
        raise PeriodError(f"not a day: {date_from!r} / {date_to!r} (use 2026-11-23)") from None
    return days(first, last, zone)


def week(year: int, number: int, zone: str) -> Period:
    try:
        monday = date.fromisocalendar(year, number, 1)
    except ValueError:
        raise PeriodError(f"no ISO week {number} in {year}") from None
    return days(monday, monday + timedelta(days=6), zone, f"{year}-W{number:02d}")


def _month_end(year: int, month: int) -> date:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def local_day(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def previous_week(now: datetime, zone: str) -> Period:
    """The last complete ISO week before `now` (what Monday's summary covers)."""
    last_week = local_day(now, zone) - timedelta(days=7)
    year, number, _ = last_week.isocalendar()
    return week(year, number, zone)


def month_to_date(now: datetime, zone: str) -> Period:
    """This month, exactly as `/report 2026-12` names it (what /report and the dashboard show
    by default): only what has happened by now is counted, so it reads "so far" without a
    second definition of the month (a response due tomorrow but given today counts in both)."""
    return parse(f"{local_day(now, zone):%Y-%m}", zone)


def previous_month(now: datetime, zone: str) -> Period:
    """The whole calendar month before this one."""
    last = local_day(now, zone).replace(day=1) - timedelta(days=1)
    return parse(f"{last:%Y-%m}", zone)


def last_days(now: datetime, zone: str, count: int) -> Period:
    """The `count` days that end with today (today included, so far)."""
    today = local_day(now, zone)
    return days(today - timedelta(days=count - 1), today, zone)


# What the dashboard's period selector offers besides any text `parse` reads (`?period=`).
PRESETS = ("month", "last-month", "7d", "30d")


def chosen(choice: str, now: datetime, zone: str) -> Period:
    """A preset name or anything `parse` reads; empty means this month so far."""
    key = choice.strip().lower()
    if key in ("", "month"):
        return month_to_date(now, zone)
    if key == "last-month":
        return previous_month(now, zone)
    if key in ("7d", "30d"):
        return last_days(now, zone, int(key[:-1]))
    return parse(choice, zone)


def previous_quarter(now: datetime, zone: str) -> Period:
    today = local_day(now, zone)
    q = (today.month - 1) // 3  # 0-based current quarter = 1-based previous one
    year = today.year if q else today.year - 1
    return parse(f"{year}-Q{q or 4}", zone)


def week_starts(period: Period) -> list[date]:
    """The Monday of every week the period touches, in order (chart buckets)."""
    first = period.first_day - timedelta(days=period.first_day.weekday())
    out: list[date] = []
    while first <= period.last_day:
        out.append(first)
        first += timedelta(days=7)
    return out
