"""The inspection figures of a report: rounds done, missed and still open, and what they found.

Definitions (runs *due* in the period):
- done: finished; late: of those, finished after their deadline;
- missed: not finished by the deadline and its grace period;
- open: not finished yet and not missed (due, started or paused);
- faults found: readings answered 异常 or outside their normal range; tickets: of those, the
  ones that opened a ticket (a missed round's findings open tickets too).
Per plan as well (`plans`: plan key → the same counts), for `frontline inspections report`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from handlers.flows.reporting.period import Period
from storage import inspections
from storage import sites as site_names
from storage.models import InspectionReading, InspectionRun, RunState
from storage.uow import Tx


@dataclass
class Counts:
    due: int = 0
    done: int = 0
    late: int = 0
    missed: int = 0
    open: int = 0
    faults: int = 0
    tickets: int = 0


@dataclass
class Inspections(Counts):
    plans: dict[str, Counts] = field(default_factory=dict)


async def compute(tx: Tx, period: Period, sites: tuple[str, ...] = ()) -> Inspections:
    runs = [r for r in await inspections.due_between(tx, period.start, period.end)
            if not sites or site_names.covers(sites, r.site)]
    found = await inspections.readings_of(tx, (r.id for r in runs if r.id is not None))
    return of(runs, found)


def of(runs: Iterable[InspectionRun], readings: Iterable[InspectionReading]) -> Inspections:
    bad: dict[int, list[InspectionReading]] = {}
    for reading in readings:
        if not reading.ok:
            bad.setdefault(reading.run_id, []).append(reading)
    total = Inspections()
    for run in runs:
        each = total.plans.setdefault(run.plan_key, Counts())
        for counts in (total, each):
            _count(counts, run, bad.get(run.id or 0, []))
    return total


def _count(c: Counts, run: InspectionRun, bad: list[InspectionReading]) -> None:
    c.due += 1
    if run.state == RunState.DONE:
        c.done += 1
        c.late += int(run.finished_at is not None and run.finished_at > run.deadline)
    elif run.state == RunState.MISSED:
        c.missed += 1
    else:
        c.open += 1
    c.faults += len(bad)
    c.tickets += sum(1 for r in bad if r.ticket_id is not None)


def rows(i: Inspections, label: Callable[..., str]) -> list[tuple[str, str]]:
    """The report's line (render.Labels as `label`); nothing when no round was due."""
    if not i.due:
        return []
    return [(label("inspections.row"),
             label("inspections.value", done=i.done, late=i.late, missed=i.missed, open=i.open,
                   faults=i.faults, tickets=i.tickets))]
