"""An inspection plan as the desk uses it: its checklist items, its schedule, the plans of a
file. Read and checked by handlers/rules/inspections.py."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

KINDS = ("pass_fail", "number", "photo", "text")


def _words(value: dict[str, str], lang: str) -> str:
    return value.get(lang) or value.get("zh") or next(iter(value.values()), "")


@dataclass(frozen=True)
class Item:
    key: str
    kind: str
    text: dict[str, str]
    unit: str = ""
    min: float | None = None
    max: float | None = None
    limits: tuple[float, float] | None = None
    required: bool = True
    category: str = ""
    priority: str = ""
    device: str = ""

    def label(self, lang: str) -> str:
        return _words(self.text, lang)

    def normal(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def sane(self, value: float) -> bool:
        """Could a gauge show this at all? The plan's `limits`, else ten times the normal
        range's width (at least 1) either side of it: 38 for 3.8 V is a slip, not a reading."""
        if not math.isfinite(value):
            return False
        if self.limits is not None:
            return self.limits[0] <= value <= self.limits[1]
        if self.min is not None and self.max is not None:
            low, high, width = self.min, self.max, max(self.max - self.min, 1.0)
        else:
            low = high = self.min if self.min is not None else self.max or 0.0
            width = max(abs(low), 1.0)
        return low - 10 * width <= value <= high + 10 * width

    def as_dict(self) -> dict[str, Any]:
        """The item as a run keeps it (the checklist does not change under a run)."""
        return {"key": self.key, "kind": self.kind, "text": dict(self.text), "unit": self.unit,
                "min": self.min, "max": self.max,
                "limits": list(self.limits) if self.limits else None,
                "required": self.required, "category": self.category,
                "priority": self.priority, "device": self.device}

    @classmethod
    def of(cls, d: dict[str, Any]) -> Item:
        limits = d.get("limits")
        return cls(key=d["key"], kind=d["kind"], text=dict(d.get("text") or {}),
                   unit=d.get("unit", ""), min=d.get("min"), max=d.get("max"),
                   limits=(limits[0], limits[1]) if limits else None,
                   required=d.get("required", True), category=d.get("category", ""),
                   priority=d.get("priority", ""), device=d.get("device", ""))


@dataclass(frozen=True)
class Schedule:
    """A 5-field cron in site time, or every N days from a start (site time)."""

    cron: str = ""
    every_days: int = 0
    start: datetime | None = None  # aware, in the site's zone

    def next_after(self, when: datetime, zone: ZoneInfo) -> datetime | None:
        """The first occurrence strictly after `when` (UTC in, zone-aware out)."""
        if self.cron:
            trigger = CronTrigger.from_crontab(self.cron, timezone=zone)
            nxt: datetime | None = trigger.get_next_fire_time(None, when + timedelta(seconds=1))
            return nxt
        assert self.start is not None and self.every_days > 0
        local = when.astimezone(zone)
        if local < self.start:
            return self.start
        passed = (local.date() - self.start.date()).days // self.every_days
        for k in (passed, passed + 1):
            day = self.start.date() + timedelta(days=k * self.every_days)
            at = datetime.combine(day, self.start.timetz().replace(tzinfo=None), tzinfo=zone)
            if at > local:
                return at
        return None  # unreachable: the second candidate is a whole period later

    def describe(self) -> str:
        if self.cron:
            return f"cron {self.cron}"
        assert self.start is not None
        return f"every {self.every_days} days from {self.start:%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class Plan:
    key: str
    name: dict[str, str]
    site: str
    schedule: Schedule
    items: tuple[Item, ...]
    plots: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    category: str = "general"
    priority: str = "P3"
    start_within: timedelta = timedelta(hours=2)
    finish_within: timedelta = timedelta(hours=8)
    grace: timedelta = timedelta(hours=4)

    def label(self, lang: str) -> str:
        return _words(self.name, lang)


@dataclass(frozen=True)
class Plans:
    plans: tuple[Plan, ...] = ()
    sites: tuple[str, ...] = ()
    source: str = ""

    def get(self, key: str) -> Plan | None:
        return next((p for p in self.plans if p.key == key), None)

    def __iter__(self) -> Any:
        return iter(self.plans)

    def __len__(self) -> int:
        return len(self.plans)
