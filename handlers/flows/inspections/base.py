"""What every part of the inspections flow shares: its router, enums, dialogue data, and the
words that describe a run and its items in each reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from handlers.core import tokens
from handlers.core.context import Ctx, Rows
from handlers.core.errors import NotAllowed, StaleAction
from handlers.core.router import Router
from handlers.core.texts import Lazy, lazy
from handlers.rules.inspections import Item, Plan
from storage import inspections
from storage.models import InspectionReading, InspectionRun, Person, Role, RunState

router = Router("inspections")
SCOPE = "v"  # buttons on a run: v:<run id>:<action>[:<item index>]
DOERS = (Role.ENGINEER, Role.EXPERT)


class Action(StrEnum):
    START = "start"
    LATER = "later"
    PASS = "ok"  # arg: the item's index (a press for an item already answered is stale)
    FAIL = "fail"
    SKIP = "skip"
    PAUSE = "pause"
    RESUME = "resume"


class State(StrEnum):
    ANSWER = "insp_answer"  # answering the current item (a number, a photo, text)
    NOTE = "insp_note"  # what is wrong with an item just marked 异常


class Due(StrEnum):
    OCCURS = "insp_occurs"  # one per plan: the next occurrence; re-armed when it fires
    REMIND = "insp_remind"  # not started yet: the engineer is reminded
    OVERDUE = "insp_overdue"  # the deadline passed: the engineer is told
    MISSED = "insp_missed"  # deadline + grace: missed, the managers are told


class Event(StrEnum):
    FINDING = "inspection_finding"  # a ticket opened for an item found abnormal


@dataclass
class Walking:
    """The run being answered, and the item whose 异常 note is asked for (-1: none)."""

    run: int = 0
    note: int = -1


def occurs_key(plan_key: str) -> str:
    return f"{Due.OCCURS}:{plan_key}"


def run_key(kind: Due, run: InspectionRun) -> str:
    return f"{kind}:{run.id}"


def button(run: InspectionRun, action: Action, arg: object = "") -> str:
    return tokens.encode(SCOPE, run.id or 0, action, arg)


def items(run: InspectionRun) -> list[Item]:
    return [Item.of(d) for d in run.items]


def plan_name(run: InspectionRun, plan: Plan | None) -> Any:
    """The plan's name in each reader's language (the stored name once it is gone)."""
    if plan is None:
        return run.plan_name
    return plan.label


def item_name(item: Item) -> Any:
    return item.label


def number_text(value: float, unit: str) -> str:
    return f"{value:g} {unit}".strip()


def normal_range(item: Item) -> Lazy:
    lo, hi = item.min, item.max
    if lo is not None and hi is not None:
        return lazy("inspection.range_both", lo=f"{lo:g}", hi=f"{hi:g}", unit=item.unit)
    if lo is not None:
        return lazy("inspection.range_min", lo=f"{lo:g}", unit=item.unit)
    return lazy("inspection.range_max", hi=f"{hi or 0:g}", unit=item.unit)


def example(item: Item) -> str:
    lo, hi = item.min, item.max
    mid = (lo + hi) / 2 if lo is not None and hi is not None else lo if lo is not None else hi
    return number_text(round(mid or 0, 2), item.unit)


def shown_value(item: Item, reading: InspectionReading) -> Any:
    """A reading as people read it: 正常 / 异常（note）, 3.8 V, 照片, the text, 跳过."""
    if item.kind == "pass_fail":
        verdict = lazy("inspection.pass" if reading.ok else "inspection.fail")
        return lazy("inspection.with_note", verdict=verdict, note=reading.value) \
            if reading.value else verdict
    if item.kind == "number" and reading.number is not None:
        return number_text(reading.number, item.unit)
    if item.kind == "photo" and reading.photo:
        return lazy("inspection.photo_value")
    return reading.value or lazy("inspection.skipped")


def run_fields(run: InspectionRun, plan: Plan | None) -> dict[str, Any]:
    return {"plan": plan_name(run, plan), "site": run.site or "-", "due": run.due_at,
            "deadline": run.deadline, "count": len(run.items), "done": run.current_item}


def resume_rows(run: InspectionRun) -> Rows:
    return [[("inspection.button_resume", button(run, Action.RESUME))]]


def intro_rows(run: InspectionRun) -> Rows:
    return [[("inspection.button_start", button(run, Action.START)),
             ("inspection.button_later", button(run, Action.LATER))]]


def plan_of(ctx: Ctx, run: InspectionRun) -> Plan | None:
    return ctx.config.inspection_plans.get(run.plan_key)


async def mine(ctx: Ctx, run_id: int) -> InspectionRun:
    """The run locked, checked to be the presser's (an unassigned one becomes theirs) and
    still open to answers."""
    me = ctx.person
    run = await inspections.get(ctx.tx, run_id, lock=True)
    if run is None or me is None:
        raise StaleAction("inspection.gone")
    if run.assignee_id is None and me.role in DOERS:
        run.assignee_id = me.id
        ctx.tx.add(run)
    if run.assignee_id != me.id:
        raise NotAllowed("inspection.not_yours")
    name = plan_name(run, plan_of(ctx, run))
    if run.state == RunState.DONE:
        raise StaleAction("inspection.already_done", reset=True, plan=name)
    if run.state == RunState.MISSED:
        raise StaleAction("inspection.missed_already", reset=True, plan=name)
    return run


async def assignee(ctx: Ctx, run: InspectionRun) -> Person | None:
    return await ctx.tx.get(Person, run.assignee_id) if run.assignee_id else None
