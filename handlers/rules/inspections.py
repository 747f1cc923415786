"""Inspection plans (定期巡检) as the orchard keeps them: TOML, checked whole at load.

    sites = ["一号园区"]                 # sites the plans may name, besides the device registry's
    [[plan]]
    key = "irrigation-weekly"          # a-z, 0-9, - and _; names the plan's runs and timers
    name = { zh = "每周灌溉巡检", en = "Weekly irrigation check" }   # or one string
    site = "一号园区"
    plots = ["3号地块"]                  # optional: shown in the checklist's intro
    cron = "0 8 * * mon"               # 5-field cron, day names in the weekday field
    # or: every_days = 14 and start = "2026-11-23 08:00" (site time)
    skills = ["irrigation"]            # who does it: on-duty engineers, these skills first
    start_within_hours = 2             # not started by then: the engineer is reminded
    finish_within_hours = 8            # the deadline: the engineer is told it has passed
    grace_hours = 4                    # after the deadline: missed, the managers are told
    [[plan.item]]
    key = "pressure"
    kind = "number"                    # pass_fail | number | photo | text
    text = { zh = "主管道水压", en = "Main line pressure" }
    unit = "MPa"
    min = 0.1                          # the normal range: outside it, a ticket after the round
    max = 0.4
    limits = [0, 2]                    # optional: what a gauge can show at all

Times are in the site's zone (`timezone`). A site must be listed in `sites` or be a site of the
device registry: there is no other list of sites (people and tickets carry free text), so a
plan naming a site nobody declared is refused rather than quietly never matching anything.
Every problem is reported with the file, the line and the reason (`InspectionPlanError`).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handlers.rules import devices
from handlers.rules.devices import Problem
from handlers.rules.faults import CATEGORIES
from handlers.rules.inspection_plans import KINDS, Item, Plan, Plans, Schedule
from handlers.rules.sla import PRIORITIES
from storage import sites as site_names

KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
MAX_ITEMS = 50
MAX_HOURS = 31 * 24
PLAN_KEYS = frozenset((
    "key", "name", "site", "plots", "cron", "every_days", "start", "skills", "category",
    "priority", "start_within_hours", "finish_within_hours", "grace_hours", "item",
))
ITEM_KEYS = frozenset((
    "key", "kind", "text", "unit", "min", "max", "limits", "required", "category", "priority",
    "device",
))
__all__ = ["KINDS", "InspectionPlanError", "Item", "Plan", "Plans", "Schedule", "load",
           "load_all", "parse"]
HEADER = re.compile(r"^\s*\[\[\s*(plan(?:\s*\.\s*item)?)\s*\]\]")


class InspectionPlanError(ValueError):
    """A plans file that cannot be used; `problems` lists each with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class _Bad(Exception):
    """One problem inside one table: the key it is about and why."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key, self.reason = key, reason


def load_all(path: Path | None, zone: str, devices_file: Path | None = None) -> Plans:
    """The plans of `path` (none without one), their sites checked against the plans' own
    `sites` and the device registry of `devices_file` (already validated by then)."""
    if path is None:
        return Plans()
    registry = devices.read(devices_file) if devices_file is not None else []
    return load(path, zone, [d.site for d in registry if d.site])


def load(path: Path, zone: str, known_sites: Iterable[str] = ()) -> Plans:
    """The plans of a file; `known_sites` are the device registry's."""
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InspectionPlanError([Problem(str(path), 0, f"cannot read it: {exc}")]) from None
    return parse(text, str(path), zone, known_sites)


def parse(text: str, name: str, zone: str, known_sites: Iterable[str] = ()) -> Plans:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InspectionPlanError([Problem(name, getattr(exc, "lineno", 0), str(exc))]) from None
    where = _Lines(text)
    problems: list[Problem] = []
    unknown = sorted(set(data) - {"sites", "plan"})
    if unknown:
        problems.append(Problem(name, where.top(unknown[0]),
                                f"unknown key {unknown[0]!r}; the file holds sites and [[plan]]"))
    declared = data.get("sites", [])
    if not isinstance(declared, list) or not all(isinstance(s, str) and s.strip()
                                                 for s in declared):
        problems.append(Problem(name, where.top("sites"), "sites is a list of site names"))
        declared = []
    known = {site_names.key(s) for s in [*declared, *known_sites] if s.strip()}
    tables = data.get("plan", [])
    if not isinstance(tables, list):
        raise InspectionPlanError([*problems, Problem(name, where.top("plan"),
                                                      "plans are [[plan]] tables")])
    plans: list[Plan] = []
    seen: dict[str, int] = {}
    for i, table in enumerate(tables):
        try:
            plan = _plan(table, ZoneInfo(zone), known)
        except _Bad as bad:
            problems.append(Problem(name, where.plan_key(i, bad.key), bad.reason))
            continue
        except _BadItem as bad:
            problems.append(Problem(name, where.item_key(i, bad.index, bad.key), bad.reason))
            continue
        if plan.key in seen:
            problems.append(Problem(name, where.plan_key(i, "key"), f"plan {plan.key!r} is "
                                    f"listed twice (first on line {seen[plan.key]})"))
            continue
        seen[plan.key] = where.plan_key(i, "")
        plans.append(plan)
    if problems:
        raise InspectionPlanError(problems)
    return Plans(tuple(plans), tuple(s.strip() for s in declared), name)


class _BadItem(Exception):
    def __init__(self, index: int, key: str, reason: str) -> None:
        super().__init__(reason)
        self.index, self.key, self.reason = index, key, reason


def _plan(t: Any, zone: ZoneInfo, known: set[str]) -> Plan:
    if not isinstance(t, dict):
        raise _Bad("", "a plan is a [[plan]] table")
    _known_keys(t, PLAN_KEYS, "plan")
    key = _key(t, "plan")
    site = t.get("site")
    if not isinstance(site, str) or not site.strip():
        raise _Bad("site", f"plan {key!r} needs a site")
    if site_names.key(site) not in known:
        raise _Bad("site", f"unknown site {site.strip()!r}: list it in `sites = [...]` at the "
                   "top of this file or in the device registry (FRONTLINE_DEVICES_FILE)")
    schedule = _schedule(t, zone)
    skills = _names(t, "skills", CATEGORIES)
    category = str(t.get("category", skills[0] if skills else "general"))
    if category not in CATEGORIES:
        raise _Bad("category", f"category {category!r}: use one of {', '.join(CATEGORIES)}")
    hours = {k: _hours(t, k, d) for k, d in (("start_within_hours", 2), ("finish_within_hours", 8),
                                              ("grace_hours", 4))}
    if hours["start_within_hours"] > hours["finish_within_hours"]:
        raise _Bad("start_within_hours", "start_within_hours is after finish_within_hours")
    items = t.get("item", [])
    if not isinstance(items, list) or not items:
        raise _Bad("", f"plan {key!r} has an empty checklist: add [[plan.item]] tables")
    if len(items) > MAX_ITEMS:
        raise _Bad("", f"plan {key!r} has {len(items)} items; at most {MAX_ITEMS}")
    checked: list[Item] = []
    for j, item in enumerate(items):
        try:
            checked.append(_item(item))
        except _Bad as bad:
            raise _BadItem(j, bad.key, bad.reason) from None
        if [c.key for c in checked].count(checked[-1].key) > 1:
            raise _BadItem(j, "key", f"item {checked[-1].key!r} is listed twice in {key!r}")
    return Plan(
        key=key, name=_words_of(t, "name", key), site=site.strip(),
        schedule=schedule, items=tuple(checked),
        plots=tuple(_names(t, "plots", None)), skills=tuple(skills), category=category,
        priority=_priority(t), start_within=timedelta(hours=hours["start_within_hours"]),
        finish_within=timedelta(hours=hours["finish_within_hours"]),
        grace=timedelta(hours=hours["grace_hours"]),
    )


def _item(t: Any) -> Item:
    if not isinstance(t, dict):
        raise _Bad("", "an item is a [[plan.item]] table")
    _known_keys(t, ITEM_KEYS, "item")
    key = _key(t, "item")
    kind = t.get("kind")
    if kind not in KINDS:
        raise _Bad("kind", f"item {key!r}: unknown kind {kind!r}; use {', '.join(KINDS)}")
    lo, hi = (_number(t, k) for k in ("min", "max"))
    limits = _limits(t)
    if kind == "number":
        if lo is None and hi is None:
            raise _Bad("min", f"item {key!r}: a number needs its normal range (min and/or max)")
        if lo is not None and hi is not None and lo > hi:
            raise _Bad("min", f"item {key!r}: bad range, min {lo:g} is above max {hi:g}")
        if limits and not all(limits[0] <= v <= limits[1] for v in (lo, hi) if v is not None):
            raise _Bad("limits", f"item {key!r}: the normal range lies outside limits")
    elif lo is not None or hi is not None or limits or t.get("unit"):
        raise _Bad("min", f"item {key!r}: min, max, limits and unit are for kind = \"number\"")
    required = t.get("required", True)
    if not isinstance(required, bool):
        raise _Bad("required", f"item {key!r}: required is true or false")
    category = str(t.get("category", ""))
    if category and category not in CATEGORIES:
        raise _Bad("category", f"category {category!r}: use one of {', '.join(CATEGORIES)}")
    return Item(key=key, kind=kind, text=_words_of(t, "text", key),
                unit=_text(t, "unit", 20), min=lo, max=hi, limits=limits, required=required,
                category=category, priority=_priority(t, ""), device=_text(t, "device", 120))


def _schedule(t: dict[str, Any], zone: ZoneInfo) -> Schedule:
    cron, every = t.get("cron"), t.get("every_days")
    if (cron is None) == (every is None):
        raise _Bad("cron", "give either cron = \"…\" or every_days = N (with start)")
    if cron is not None:
        fields = str(cron).split()
        if len(fields) == 5 and re.search(r"\d", fields[4]):
            raise _Bad("cron", f"cron {cron!r}: name the weekdays (mon-fri, sun): numbers in "
                       "that field mean other days to different cron dialects")
        try:
            schedule = Schedule(cron=" ".join(fields))
            first = schedule.next_after(datetime.now(zone), zone)
        except ValueError as exc:
            raise _Bad("cron", f"bad schedule cron {cron!r}: {exc}") from None
        if first is None:
            raise _Bad("cron", f"cron {cron!r} never comes due")
        return schedule
    if not isinstance(every, int) or isinstance(every, bool) or not 1 <= every <= 366:
        raise _Bad("every_days", "every_days is a whole number of days from 1 to 366")
    return Schedule(every_days=every, start=_start(t.get("start"), zone))


def _start(value: Any, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        local = value.replace(tzinfo=None)
    elif isinstance(value, date):
        local = datetime.combine(value, time(8))
    elif isinstance(value, str):
        try:
            local = datetime.fromisoformat(value.strip()).replace(tzinfo=None)
        except ValueError:
            raise _Bad("start", f"start {value!r}: use \"2026-11-23 08:00\" (site time)") from None
    else:
        raise _Bad("start", "every_days needs start = \"2026-11-23 08:00\" (site time)")
    return local.replace(tzinfo=zone)


def _known_keys(t: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(t) - allowed)
    if unknown:
        raise _Bad(unknown[0], f"unknown {what} key {unknown[0]!r}; keys: "
                   f"{', '.join(sorted(allowed))}")


def _key(t: dict[str, Any], what: str) -> str:
    key = t.get("key")
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise _Bad("key", f"every {what} needs a key: a-z, 0-9, - and _, up to 40")
    return key


def _words_of(t: dict[str, Any], name: str, key: str) -> dict[str, str]:
    value = t.get(name)
    if isinstance(value, str) and value.strip():
        return {"zh": value.strip()}
    if isinstance(value, dict) and value and all(
            k in ("zh", "en") and isinstance(v, str) and v.strip() for k, v in value.items()):
        return {k: v.strip()[:200] for k, v in value.items()}
    raise _Bad(name, f"{key!r} needs {name} = \"…\" or {name} = {{ zh = \"…\", en = \"…\" }}")


def _names(t: dict[str, Any], name: str, allowed: tuple[str, ...] | None) -> list[str]:
    value = t.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _Bad(name, f"{name} is a list of names")
    bad = [v for v in value if allowed is not None and v not in allowed]
    if bad:
        raise _Bad(name, f"{name}: {bad[0]!r} is not one of {', '.join(allowed or ())}")
    return [v.strip()[:100] for v in value]


def _hours(t: dict[str, Any], name: str, default: float) -> float:
    value = t.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not 0 < value <= MAX_HOURS:
        raise _Bad(name, f"{name}: hours, more than 0 and at most {MAX_HOURS}")
    return float(value)


def _number(t: dict[str, Any], name: str) -> float | None:
    value = t.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        raise _Bad(name, f"{name} must be a number")
    return float(value)


def _limits(t: dict[str, Any]) -> tuple[float, float] | None:
    value = t.get("limits")
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool)
                    and math.isfinite(v) for v in value) and value[0] < value[1]):
        raise _Bad("limits", "limits = [lowest, highest] a gauge can show, lowest first")
    return float(value[0]), float(value[1])


def _priority(t: dict[str, Any], default: str = "P3") -> str:
    value = str(t.get("priority", default))
    if value and value not in PRIORITIES:
        raise _Bad("priority", f"priority {value!r}: use P1–P4")
    return value


def _text(t: dict[str, Any], name: str, cap: int) -> str:
    value = t.get(name, "")
    if not isinstance(value, str):
        raise _Bad(name, f"{name} is text")
    return value.strip()[:cap]


@dataclass
class _Lines:
    """Where each [[plan]] and [[plan.item]] table starts, to name the line of a problem
    (tomllib keeps no positions)."""

    text: str
    lines: list[str] = field(init=False)
    plans: list[tuple[int, list[int]]] = field(init=False)  # header line, item header lines

    def __post_init__(self) -> None:
        self.lines = self.text.splitlines()
        self.plans = []
        for n, line in enumerate(self.lines, start=1):
            m = HEADER.match(line)
            if m and "item" not in m[1]:
                self.plans.append((n, []))
            elif m and self.plans:
                self.plans[-1][1].append(n)

    def _find(self, start: int, key: str) -> int:
        """The line of `key = …` in the table starting at line `start` (else `start`)."""
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for n in range(start + 1, len(self.lines) + 1):
            line = self.lines[n - 1]
            if line.lstrip().startswith("["):
                break
            if key and pattern.match(line):
                return n
        return start

    def top(self, key: str) -> int:
        return self._find(0, key) if key else 0

    def plan_key(self, i: int, key: str) -> int:
        return self._find(self.plans[i][0], key) if i < len(self.plans) else 0

    def item_key(self, i: int, j: int, key: str) -> int:
        if i >= len(self.plans):
            return 0
        items = self.plans[i][1]
        return self._find(items[j], key) if j < len(items) else self.plans[i][0]
