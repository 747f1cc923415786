"""Service calendars: 7×24, or working hours with weekends, holidays and swapped workdays.

SLA windows are measured on a calendar: "8 working hours" from Friday 16:00 ends on Monday
morning, not Saturday. Time outside working hours does not count; a holiday is a whole day
off; a swapped workday (调休) is a weekend day that counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

MAX_DAYS_SCANNED = 3660  # a calendar with no working day at all must not loop forever


class Calendar(Protocol):
    def add(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` of service time after `start`."""
        ...

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Service time from `start` to `end` (zero if end is not after start)."""
        ...

    def add_days(self, start: datetime, days: int) -> datetime:
        """`days` service days after `start` (same time of day, on a service day)."""
        ...


class AlwaysOpen:
    """7×24: service time is wall-clock time."""

    def add(self, start: datetime, hours: float) -> datetime:
        return start + timedelta(hours=hours)

    def between(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))

    def add_days(self, start: datetime, days: int) -> datetime:
        return start + timedelta(days=days)


@dataclass(frozen=True)
class WorkingHours:
    zone: ZoneInfo
    opens: time = time(8, 30)
    closes: time = time(17, 30)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)  # weekend days that count

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() in self.weekdays and day not in self.holidays

    def _span(self, day: date) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.opens, self.zone),
                datetime.combine(day, self.closes, self.zone))

    def _segments(self, start: datetime):  # type: ignore[no-untyped-def]
        """Working intervals from `start` onwards, as (from, to) in the site zone."""
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(MAX_DAYS_SCANNED):
            if self.is_working_day(day):
                opens, closes = self._span(day)
                if closes > local:
                    yield max(opens, local), closes
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time")

    def add(self, start: datetime, hours: float) -> datetime:
        remaining = timedelta(hours=hours)
        for begin, end in self._segments(start):
            if remaining <= end - begin:
                return (begin + remaining).astimezone(UTC)
            remaining -= end - begin
        raise AssertionError("unreachable")

    def between(self, start: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        if end <= start:
            return total
        for begin, close in self._segments(start):
            if begin >= end:
                break
            total += min(close, end) - begin
        return total

    def add_days(self, start: datetime, days: int) -> datetime:
        local = start.astimezone(self.zone)
        day, counted = local.date(), 0
        while counted < days:
            day += timedelta(days=1)
            counted += self.is_working_day(day)
        moment = datetime.combine(day, local.timetz().replace(tzinfo=None), self.zone)
        opens, closes = self._span(day)
        return min(max(moment, opens), closes).astimezone(UTC)
