"""Who is on duty at a site at a moment, and who is next: the rota file's shifts as they fall
on dates (holidays from the SLA calendar, overrides), with the swaps people agreed in chat and
`/duty off` applied. Pure functions of data; `handlers/flows/jobs/duty.py` gathers the data.

A shift belongs to the date it starts on: on a holiday the site's `holiday` weekday decides
which shifts start that day (a night shift runs into the next morning as usual). An override
replaces whoever the shifts name for its days (or its hours of each day).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from handlers.rules.devices import Problem
from handlers.rules.oncall import Hours, Rota, SiteRota

HORIZON = timedelta(days=8)  # "next" looks this far: a week of shifts and a holiday


class Staff(Protocol):
    """What the rota needs to know of a person (storage.models.Person)."""

    id: int | None
    name: str
    phone: str
    on_duty: bool


@dataclass(frozen=True)
class Calendar:
    """The SLA calendar's special days (handlers/rules/calendars.py WorkingHours)."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # weekend days that count as working (调休)


@dataclass(frozen=True)
class Slot:
    """One shift as it falls on a date (or an override's span), with who the file names."""

    site: str
    start: datetime  # UTC
    end: datetime
    people: tuple[str, ...]
    line: int  # of the rota file, for messages about it
    override: bool = False


@dataclass(frozen=True)
class Swap:
    """An accepted swap: `to_id` takes `from_id`'s place in one slot (site, start, end)."""

    site: str
    start: datetime
    end: datetime
    from_id: int
    to_id: int


@dataclass(frozen=True)
class Duty:
    """Who is on duty at one site now and who is next (ids, the /duty-off people left out)."""

    site: str
    now: tuple[int, ...]
    until: datetime | None  # when the people on now change (None: not within the horizon)
    next: tuple[int, ...] = ()
    next_until: datetime | None = None


@dataclass
class Roster:
    """The people a rota may name (engineers, experts), found by name or phone."""

    people: Sequence[Staff]
    _by_ref: dict[str, list[Staff]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for p in self.people:
            for ref in {p.name.strip(), _digits(p.phone)} - {""}:
                self._by_ref.setdefault(ref, []).append(p)

    def find(self, ref: str) -> Staff | None:
        """The one person a name or phone means; None when nobody or several match."""
        found = self._by_ref.get(ref.strip()) or self._by_ref.get(_digits(ref)) or []
        return found[0] if len(found) == 1 else None

    def ids(self, refs: Iterable[str]) -> tuple[int, ...]:
        return tuple(dict.fromkeys(p.id for r in refs if (p := self.find(r)) and p.id))

    def problems(self, rota: Rota) -> list[Problem]:
        """Names and phones in the rota that match no one, or more than one person."""
        out = []
        for site in rota.sites.values():
            for entry in site.entries:
                for ref in entry.people:
                    many = len(self._by_ref.get(ref) or self._by_ref.get(_digits(ref)) or [])
                    if many != 1:
                        why = "is not a registered engineer" if not many else \
                            "matches several people: write the phone instead"
                        out.append(Problem(rota.path, entry.line, f"{ref} {why}"))
        return sorted(out, key=lambda p: p.line)

    def named(self, rota: Rota) -> frozenset[int]:
        """Everyone the rota names: their hours come from it, not from their own rota."""
        return frozenset(self.ids(ref for site in rota.sites.values()
                                  for entry in site.entries
                                  for ref in entry.people))


def _digits(text: str) -> str:
    digits = "".join(c for c in text if c.isdigit())
    return digits if len(digits) >= 5 else ""  # a phone, not a "3" in a name


def slots(site: SiteRota, start: datetime, end: datetime, days: Calendar) -> list[Slot]:
    """The site's slots that overlap [start, end), in time order."""
    first = start.astimezone(site.zone).date() - timedelta(days=1)
    last = end.astimezone(site.zone).date()
    dates = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    covered = [span for o in site.overrides for span in _spans(site, o.first, o.last, o.hours)]
    out: list[Slot] = []
    for d in dates:
        weekday = _pattern(site, d, days)
        for shift in site.shifts:
            if weekday in shift.days:
                a, b = _span(site, d, shift.hours)
                out += [Slot(site.name, x, y, shift.people, shift.line)
                        for x, y in _minus((a, b), covered)]
    for o in site.overrides:
        out += [Slot(site.name, a, b, o.people, o.line, override=True)
                for a, b in _spans(site, o.first, o.last, o.hours)]
    return sorted((s for s in out if s.start < end and s.end > start),
                  key=lambda s: (s.start, s.line))


def _pattern(site: SiteRota, day: date, days: Calendar) -> int:
    if day in days.holidays and site.holiday is not None:
        return site.holiday
    if day in days.workdays and site.workday is not None:
        return site.workday
    return day.weekday()


def _span(site: SiteRota, day: date, hours: Hours) -> tuple[datetime, datetime]:
    def at(minutes: int) -> datetime:
        when = day + timedelta(days=minutes // (24 * 60))
        rest = minutes % (24 * 60)
        return datetime.combine(when, time(rest // 60, rest % 60), site.zone).astimezone(UTC)

    return at(hours.start), at(hours.end)


def _spans(site: SiteRota, first: date, last: date,
           hours: Hours | None) -> list[tuple[datetime, datetime]]:
    if hours is None:  # whole days: one span
        whole = Hours(0, 24 * 60)
        return [(_span(site, first, whole)[0], _span(site, last, whole)[1])]
    n = (last - first).days + 1
    return [_span(site, first + timedelta(days=i), hours) for i in range(n)]


def _minus(span: tuple[datetime, datetime],
           cuts: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """What is left of a span once the overrides' spans are taken out."""
    pieces = [span]
    for c0, c1 in cuts:  # each piece keeps what lies before and after the cut
        pieces = [p for a, b in pieces for p in ((a, min(b, c0)), (max(a, c1), b))
                  if p[0] < p[1]]
    return pieces


def people_of(slot: Slot, roster: Roster, swaps: Iterable[Swap]) -> tuple[int, ...]:
    """Who is on a slot once the swaps agreed for it (in the order accepted) are applied."""
    ids = list(roster.ids(slot.people))
    for s in swaps:
        if (s.site, s.start, s.end) == (slot.site, slot.start, slot.end) and s.from_id in ids:
            ids = [s.to_id if i == s.from_id else i for i in ids]
    return tuple(dict.fromkeys(ids))


def duty(site: SiteRota, when: datetime, roster: Roster, swaps: Sequence[Swap],
         days: Calendar) -> Duty:
    """Who is on duty at `site` at `when`, until when, and who comes on at the next change."""
    found = slots(site, when - timedelta(days=1), when + HORIZON, days)
    off = {p.id for p in roster.people if not p.on_duty}

    def at(moment: datetime) -> tuple[int, ...]:
        on = [i for s in found if s.start <= moment < s.end for i in people_of(s, roster, swaps)]
        return tuple(i for i in dict.fromkeys(on) if i not in off)

    now = at(when)
    # past the horizon the slots are not all known: a change there would be made up
    changes = sorted({t for s in found for t in (s.start, s.end) if when < t < when + HORIZON})
    for i, moment in enumerate(changes):
        later = at(moment)
        if later != now:
            until = next((m for m in changes[i + 1:] if at(m) != later), None)
            return Duty(site.name, now, moment, later, until)
    return Duty(site.name, now, None)


def my_slots(rota: Rota, person_id: int, start: datetime, end: datetime, roster: Roster,
             swaps: Sequence[Swap], days: Calendar) -> list[Slot]:
    """The slots starting after `start` and before `end` that this person is on (after
    swaps), in time order: what they may still ask a colleague to take."""
    mine = [s for site in rota.sites.values() for s in slots(site, start, end, days)
            if start < s.start < end and person_id in people_of(s, roster, swaps)]
    return sorted(mine, key=lambda s: (s.start, s.site))
