"""SLA policy as data: response, resolution and on-site windows per priority, from TOML.

The default is the service plan's table (2/4/8/24 h to respond, 4/8/24/48 h to resolve, 7×24,
acknowledge a page within 15/30/60/60 min). A policy may measure windows on a working-hours
calendar with holidays, give resolution in working days ("3 working days"), promise an on-site
time, pause the resolution clock while the desk waits for the reporter, and name its levels
(`label = { zh = "重大", en = "major" }`: the second policy calls P1 重大, not 紧急). See
handlers/policies/*.toml for both policies of the service plan.

Holidays and swapped workdays (调休) may be listed per year, each year with the notice it
comes from (`[working_hours.years.2026]`, `source = "…"`); a date outside its year, a swapped
workday that is not a weekend day, or a day that is both, is refused when the policy loads.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handlers.rules.calendars import AlwaysOpen, Calendar, WorkingHours

PRIORITIES = ("P1", "P2", "P3", "P4")
DEFAULT_ACK_MINUTES = {"P1": 15, "P2": 30, "P3": 60, "P4": 60}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WARN_FRACTION = 0.75


@dataclass(frozen=True)
class Window:
    response_hours: float
    resolve_hours: float
    resolve_days: int = 0  # > 0: resolution in service days instead of hours
    onsite_hours: float | None = None
    ack_minutes: float = 60
    calendar: Calendar = field(default_factory=AlwaysOpen)


@dataclass(frozen=True)
class SlaPolicy:
    name: str
    windows: dict[str, Window]
    pause_when_waiting: bool = True
    # working days for promises outside the priority table (complaints: 7 working days)
    working: WorkingHours = field(
        default_factory=lambda: WorkingHours(ZoneInfo("Asia/Shanghai"))
    )
    # what the policy calls each level, per language ({"P1": {"zh": "重大", "en": "major"}})
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    # waiting for the reporter's consent to remote work stops the resolution clock too
    consent_pauses: bool = False

    @classmethod
    def from_toml(cls, text: str, zone: str = "Asia/Shanghai") -> SlaPolicy:
        data = tomllib.loads(text)
        table = data.get("priority", {})
        missing = [p for p in PRIORITIES if p not in table]
        if missing:
            raise ValueError(f"SLA policy lacks priorities: {', '.join(missing)}")
        calendars: dict[str, Calendar] = {
            "24x7": AlwaysOpen(), "working": _working(data, ZoneInfo(zone)),
        }
        default = str(data.get("calendar", "24x7"))
        windows = {p: _window(p, table[p], calendars, default) for p in PRIORITIES}
        working = calendars["working"]
        assert isinstance(working, WorkingHours)
        labels = {p: _label(p, table[p]) for p in PRIORITIES}
        return cls(str(data.get("name", "custom")), windows,
                   bool(data.get("pause_when_waiting", True)), working,
                   {p: names for p, names in labels.items() if names},
                   _flag(data, "consent_pauses"))

    @classmethod
    def load(cls, path: Path, zone: str = "Asia/Shanghai") -> SlaPolicy:
        return cls.from_toml(path.read_text(encoding="utf-8"), zone)

    @classmethod
    def default(cls) -> SlaPolicy:
        text = resources.files("handlers").joinpath("policies/default.toml").read_text("utf-8")
        return cls.from_toml(text)

    def window(self, priority: str) -> Window:
        return self.windows[priority]

    def label(self, priority: str, lang: str) -> str | None:
        """The policy's own name for a level in a language (重大), or None when it has none."""
        return self.labels.get(priority, {}).get(lang)

    def response_due(self, priority: str, start: datetime) -> datetime:
        w = self.window(priority)
        return w.calendar.add(start, w.response_hours)

    def resolve_due(self, priority: str, start: datetime) -> datetime:
        w = self.window(priority)
        if w.resolve_days:
            return w.calendar.add_days(start, w.resolve_days)
        return w.calendar.add(start, w.resolve_hours)

    def onsite_due(self, priority: str, start: datetime) -> datetime | None:
        w = self.window(priority)
        return None if w.onsite_hours is None else w.calendar.add(start, w.onsite_hours)

    def ack_timeout(self, priority: str) -> timedelta:
        return timedelta(minutes=self.window(priority).ack_minutes)

    def warn_at(self, priority: str, start: datetime, due: datetime) -> datetime:
        """When 75 % of the window from `start` to `due` has passed, in service time."""
        cal = self.window(priority).calendar
        elapsed = cal.between(start, due) * WARN_FRACTION
        return cal.add(start, elapsed.total_seconds() / 3600)

    def remaining(self, priority: str, now: datetime, due: datetime) -> timedelta:
        return self.window(priority).calendar.between(now, due)

    def resume(self, priority: str, now: datetime, remaining: timedelta) -> datetime:
        """The new due time after a pause that left `remaining` service time."""
        return self.window(priority).calendar.add(now, remaining.total_seconds() / 3600)


def _window(priority: str, t: dict[str, Any], calendars: dict[str, Calendar],
            default: str) -> Window:
    name = str(t.get("calendar", default))
    if name not in calendars:
        raise ValueError(f"{priority}: unknown calendar {name!r} (use 24x7 or working)")
    days = int(t.get("resolve_working_days", 0))
    if "resolve_hours" not in t and not days:
        raise ValueError(f"{priority}: give resolve_hours or resolve_working_days")
    onsite = t.get("onsite_hours")
    return Window(
        response_hours=float(t["response_hours"]),
        resolve_hours=float(t.get("resolve_hours", 0)),
        resolve_days=days,
        onsite_hours=None if onsite is None else float(onsite),
        ack_minutes=float(t.get("ack_timeout_minutes", DEFAULT_ACK_MINUTES[priority])),
        calendar=calendars[name],
    )


def _flag(data: dict[str, Any], name: str) -> bool:
    """A yes/no setting of the policy: absent is no; a string such as "no" is refused
    rather than read as yes."""
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value


def _label(priority: str, t: dict[str, Any]) -> dict[str, str]:
    names = t.get("label", {})
    if not isinstance(names, dict) or not all(isinstance(v, str) and v.strip()
                                              for v in names.values()):
        raise ValueError(f"{priority}: label is a table of names by language, "
                         'e.g. label = { zh = "重大", en = "major" }')
    return {str(lang): name.strip() for lang, name in names.items()}


def _working(data: dict[str, Any], zone: ZoneInfo) -> WorkingHours:
    w = data.get("working_hours", {})
    days = [WEEKDAYS.index(d[:3].lower()) for d in w.get("weekdays", WEEKDAYS[:5])]
    holidays, workdays = _days_off(w)
    return WorkingHours(
        zone=zone,
        opens=time.fromisoformat(str(w.get("opens", "08:30"))),
        closes=time.fromisoformat(str(w.get("closes", "17:30"))),
        weekdays=frozenset(days),
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
    )


def _days_off(w: dict[str, Any]) -> tuple[set[date], set[date]]:
    """Holidays and swapped workdays: the flat lists plus those of each year's table."""
    holidays, workdays = set(_dates(w.get("holidays", []))), set(_dates(w.get("workdays", [])))
    for year, table in w.get("years", {}).items():
        off, on = _dates(table.get("holidays", [])), _dates(table.get("workdays", []))
        if not str(table.get("source", "")).strip():
            raise ValueError(f"working_hours.years.{year}: name the notice it comes from (source)")
        strays = [d for d in (*off, *on) if str(d.year) != str(year)]
        if strays:
            raise ValueError(f"working_hours.years.{year}: {strays[0]} is not in {year}")
        holidays.update(off)
        workdays.update(on)
    # a swapped workday is a weekend day that counts; on a weekday it is a typo
    weekday = [d for d in workdays if d.weekday() < 5]
    if weekday:
        raise ValueError(f"swapped workday {min(weekday)} is not a Saturday or Sunday")
    both = holidays & workdays
    if both:
        raise ValueError(f"{min(both)} is listed both as a holiday and as a workday")
    return holidays, workdays


def _dates(values: list[Any]) -> list[date]:
    return [v if isinstance(v, date) else date.fromisoformat(str(v)) for v in values]
