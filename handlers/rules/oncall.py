"""The on-call rota file (`FRONTLINE_ROTA_FILE`, example: handlers/policies/rota.toml): per site,
weekly shifts naming who is on duty, which day's shifts apply on holidays, and overrides for a
date range.

    [[site]]      name, zone (default: the desk's), holiday = "sun", workday = "mon"
    [[shift]]     site, days = "mon-fri", hours = "08:00-18:00", people = ["张工"]
    [[override]]  site, from = 2026-10-01, to = 2026-10-07, hours (optional), people

Checked when the file is loaded (a bad file stops the start, every problem with its file, line
and reason): unknown keys, days and zones, bad hours, empty shifts, shifts of one site that
overlap, overlapping overrides, a shift or override for a site with no [[site]] table.
Whether the people named are registered is checked when the rota is used (/oncall shows a
manager what does not match): people register and change in chat while the file is loaded
once, before the database is even open.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.rules.devices import Problem

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES
MAX_OVERRIDE_DAYS = 366
HOURS = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
KEYS = {
    "site": {"name", "zone", "holiday", "workday"},
    "shift": {"site", "days", "hours", "people"},
    "override": {"site", "from", "to", "hours", "people"},
}


class RotaError(ValueError):
    """A rota file that cannot be used; `problems` name the file, line and reason of each."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Hours:
    """Minutes after midnight; `end` may pass 24:00 (a night shift into the next day)."""

    start: int
    end: int

    @property
    def crosses_midnight(self) -> bool:
        return self.end > DAY_MINUTES


@dataclass(frozen=True)
class Shift:
    line: int
    days: frozenset[int]  # Monday = 0
    hours: Hours
    people: tuple[str, ...]  # names or phones, as written


@dataclass(frozen=True)
class Override:
    line: int
    first: date
    last: date  # inclusive
    hours: Hours | None  # None: the whole of each day
    people: tuple[str, ...]


@dataclass(frozen=True)
class SiteRota:
    name: str
    line: int
    zone: ZoneInfo
    holiday: int | None = None  # whose shifts apply on a holiday; None: the day's own
    workday: int | None = None  # … on a swapped workday (调休上班)
    shifts: tuple[Shift, ...] = ()
    overrides: tuple[Override, ...] = ()

    @property
    def entries(self) -> list[Shift | Override]:
        """Every shift and override: each names people on one line of the file."""
        return [*self.shifts, *self.overrides]


@dataclass(frozen=True)
class Rota:
    path: str = ""
    sites: dict[str, SiteRota] = field(default_factory=dict)


def load(path: Path | None, zone: str) -> Rota:
    """The rota of `path` (None: no site has a rota); RotaError lists every problem."""
    if path is None:
        return Rota()
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RotaError([Problem(str(path), 0, f"cannot read it: {exc}")]) from None
    return parse(text, str(path), zone)


def parse(text: str, name: str, zone: str) -> Rota:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RotaError([Problem(name, getattr(exc, "lineno", 0), str(exc))]) from None
    reader = _Reader(name, text, ZoneInfo(zone))
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        reader.fail(0, f"unknown table {unknown[0]!r}; tables: [[site]], [[shift]], [[override]]")
    rota = reader.read(data)
    if reader.problems:
        raise RotaError(sorted(reader.problems, key=lambda p: p.line))
    return rota


@dataclass
class _Reader:
    name: str
    text: str
    zone: ZoneInfo
    problems: list[Problem] = field(default_factory=list)

    def fail(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.name, line, message))

    def tables(self, data: dict[str, Any], kind: str) -> list[tuple[int, dict[str, Any]]]:
        tables = data.get(kind, [])
        if not isinstance(tables, list):
            self.fail(0, f"write {kind}s as [[{kind}]] tables")
            return []
        lines = [n for n, line in enumerate(self.text.splitlines(), start=1)
                 if line.strip().startswith(f"[[{kind}]]")]
        out = []
        for i, table in enumerate(tables):
            line = lines[i] if i < len(lines) else 0
            extra = sorted(set(table) - KEYS[kind])
            if extra:
                self.fail(line, f"unknown key {extra[0]!r} in [[{kind}]]; keys: "
                                f"{', '.join(sorted(KEYS[kind]))}")
                continue
            out.append((line, table))
        return out

    def read(self, data: dict[str, Any]) -> Rota:
        sites: dict[str, SiteRota] = {}
        for line, table in self.tables(data, "site"):
            site = self.site(line, table)
            if site is not None and site.name in sites:
                self.fail(line, f"site {site.name!r} has two [[site]] tables (first on line "
                                f"{sites[site.name].line})")
            elif site is not None:
                sites[site.name] = site
        shifts: dict[str, list[Shift]] = {}
        for line, table in self.tables(data, "shift"):
            where = self.site_of(line, table, sites, "shift")
            shift = self.shift(line, table)
            if where and shift:
                shifts.setdefault(where, []).append(shift)
        overrides: dict[str, list[Override]] = {}
        for line, table in self.tables(data, "override"):
            where = self.site_of(line, table, sites, "override")
            override = self.override(line, table)
            if where and override:
                overrides.setdefault(where, []).append(override)
        for name, site in sites.items():
            mine, theirs = shifts.get(name, []), overrides.get(name, [])
            self.overlapping_shifts(mine)
            self.overlapping_overrides(theirs)
            sites[name] = SiteRota(site.name, site.line, site.zone, site.holiday, site.workday,
                                   tuple(mine), tuple(theirs))
        return Rota(self.name, sites)

    def site(self, line: int, table: dict[str, Any]) -> SiteRota | None:
        name = table.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
            self.fail(line, "every [[site]] needs a name (the site as people registered it, "
                            "≤ 100 characters)")
            return None
        zone = self.zone
        if "zone" in table:
            try:
                zone = ZoneInfo(str(table["zone"]))
            except (ZoneInfoNotFoundError, ValueError):
                self.fail(line, f"zone {table['zone']!r} is not a time zone (e.g. Asia/Shanghai)")
                return None
        days = [self.one_day(line, table, key) for key in ("holiday", "workday")]
        if any(d == -1 for d in days):
            return None
        return SiteRota(name.strip(), line, zone, days[0], days[1])

    def one_day(self, line: int, table: dict[str, Any], key: str) -> int | None:
        """-1: a problem was reported."""
        if key not in table:
            return None
        value = str(table[key]).strip().lower()
        if value not in DAYS:
            self.fail(line, f"{key} = {table[key]!r}: name one day whose shifts apply "
                            f"({', '.join(DAYS)})")
            return -1
        return DAYS.index(value)

    def site_of(self, line: int, table: dict[str, Any], sites: dict[str, SiteRota],
                kind: str) -> str | None:
        name = str(table.get("site", "")).strip()
        if not name:
            self.fail(line, f"this [[{kind}]] names no site")
            return None
        if name not in sites:
            known = ", ".join(sites) or "none"
            self.fail(line, f"site {name!r} has no [[site]] table (sites: {known})")
            return None
        return name

    def shift(self, line: int, table: dict[str, Any]) -> Shift | None:
        days = self.days(line, table.get("days"))
        hours = self.hours(line, table.get("hours"))
        people = self.people(line, table.get("people"), "shift")
        if days is None or hours is None or people is None:
            return None
        return Shift(line, days, hours, people)

    def override(self, line: int, table: dict[str, Any]) -> Override | None:
        first, last = self.date(line, table, "from"), self.date(line, table, "to")
        hours = self.hours(line, table["hours"]) if "hours" in table else None
        people = self.people(line, table.get("people"), "override")
        if first is None or last is None or people is None or ("hours" in table and not hours):
            return None
        if last < first:
            self.fail(line, f"to = {last} is before from = {first}")
            return None
        if (last - first).days >= MAX_OVERRIDE_DAYS:
            self.fail(line, f"an override covers at most {MAX_OVERRIDE_DAYS} days; change the "
                            "shifts instead")
            return None
        return Override(line, first, last, hours, people)

    def days(self, line: int, value: object) -> frozenset[int] | None:
        spec = str(value or "").strip().lower()
        if spec in ("daily", "every day"):
            return frozenset(range(7))
        out: set[int] = set()
        for part in filter(None, (p.strip() for p in spec.split(","))):
            first, _, last = (s.strip() for s in part.partition("-"))
            if first not in DAYS or (last and last not in DAYS):
                bad = first if first not in DAYS else last
                self.fail(line, f"unknown day {bad!r}: use {', '.join(DAYS)}, a range such as "
                                "mon-fri, a list such as sat,sun, or daily")
                return None
            a, b = DAYS.index(first), DAYS.index(last or first)
            out.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        if not out:
            self.fail(line, "days is missing: e.g. days = \"mon-fri\"")
            return None
        return frozenset(out)

    def hours(self, line: int, value: object) -> Hours | None:
        m = HOURS.fullmatch(str(value or "").strip())
        if m is None:
            self.fail(line, f"hours = {value!r}: use HH:MM-HH:MM, e.g. \"08:00-18:00\" or "
                            "\"20:00-08:00\" (into the next morning)")
            return None
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            self.fail(line, f"hours = {value!r}: not a time of day (00:00 to 24:00)")
            return None
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end % DAY_MINUTES and end != DAY_MINUTES:
            self.fail(line, f"hours = {value!r} is an empty shift; a whole day is "
                            "\"00:00-24:00\"")
            return None
        return Hours(start, end if end > start else end + DAY_MINUTES)

    def people(self, line: int, value: object, kind: str) -> tuple[str, ...] | None:
        names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        cleaned = tuple(dict.fromkeys(str(n).strip() for n in names if str(n).strip()))
        if not cleaned:
            self.fail(line, f"nobody is on this {kind}: people = [\"name or phone\", …]")
            return None
        if any(len(n) > 100 or not n.isprintable() for n in cleaned):
            self.fail(line, "a name or phone in people is too long or not printable")
            return None
        return cleaned

    def date(self, line: int, table: dict[str, Any], key: str) -> date | None:
        value = table.get(key)
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(line, f"{key} = {value!r}: a date such as 2026-10-01")
            return None

    def overlapping_shifts(self, shifts: list[Shift]) -> None:
        """Shifts of one site that overlap make "who is on duty" and swaps ambiguous: one
        shift with both people says the same thing clearly."""
        spans = [(s, d * DAY_MINUTES + s.hours.start, d * DAY_MINUTES + s.hours.end)
                 for s in shifts for d in sorted(s.days)]
        for i, (a, a0, a1) in enumerate(spans):
            for b, b0, b1 in spans[i + 1:]:
                if a is b:
                    continue
                if any(a0 < b1 + k and b0 + k < a1 for k in (-WEEK_MINUTES, 0, WEEK_MINUTES)):
                    self.fail(b.line, f"this shift overlaps the shift on line {a.line}; put "
                                      "both people in one shift instead")
                    return

    def overlapping_overrides(self, overrides: list[Override]) -> None:
        ordered = sorted(overrides, key=lambda o: o.first)
        for a, b in pairwise(ordered):
            if b.first <= a.last:
                self.fail(b.line, f"this override's days overlap the override on line "
                                  f"{a.line}")
