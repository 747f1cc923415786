"""When inspections come due, and what happens when they are not done.

One timer per plan (`insp_occurs:<plan>`) brings its next occurrence: it creates the run —
once, however many replicas sweep (timers are claimed; (plan, due time) is unique) — picks
the engineer, sends the checklist's intro with 开始 / 稍后, and re-arms itself for the
occurrence after. At start (`ensure_timers`) every plan gets its timer and plans no longer in
the file lose theirs. Per run:

    due ──(start_within, not started)──► reminder to the engineer
        ──(deadline, not done)──► the engineer is told it is overdue
        ──(deadline + grace, not done)──► missed: the managers are told; what was found so
                                          far still becomes tickets
"""

from __future__ import annotations

import logging
from datetime import datetime

from handlers.core import logctx
from handlers.core.context import Ctx
from handlers.core.texts import lazy
from handlers.flows.inspections import assign, findings
from handlers.flows.inspections.base import (
    Due,
    assignee,
    intro_rows,
    occurs_key,
    plan_of,
    resume_rows,
    router,
    run_fields,
    run_key,
)
from handlers.rules.inspections import Plan
from storage import inspections, people, timers
from storage.models import InspectionRun, RunState, Timer, TimerState

log = logging.getLogger(__name__)
UNFINISHED = frozenset(str(s) for s in inspections.UNFINISHED)


async def ensure_timers(ctx: Ctx) -> int:
    """Every plan's next occurrence has its timer (a timer already due is left to fire);
    plans gone from the file lose theirs. Returns how many plans are scheduled."""
    zone, keys = ctx.config.zone, set()
    for plan in ctx.config.inspection_plans:
        key = occurs_key(plan.key)
        keys.add(key)
        nxt = plan.schedule.next_after(ctx.now, zone)
        timer = await inspections.timer(ctx.tx, key)
        if nxt is None or (timer is not None and timer.state == TimerState.PENDING
                           and (timer.due_at <= ctx.now or timer.due_at == nxt)):
            continue
        await timers.schedule(ctx.tx, key, Due.OCCURS, nxt, payload={"plan": plan.key})
    gone = [t.key for t in await inspections.pending_timers(ctx.tx, Due.OCCURS)
            if t.key not in keys]
    await timers.cancel(ctx.tx, *gone)
    return len(keys)


@router.timer(Due.OCCURS)
async def occurs(ctx: Ctx, timer: Timer) -> None:
    """An occurrence is due: its run (once), then the timer for the next one."""
    plan = ctx.config.inspection_plans.get(str(timer.payload.get("plan", "")))
    if plan is None:
        log.info("inspection timer %s: its plan is no longer in the file", timer.key)
        return
    due = timer.due_at
    if await inspections.occurrence(ctx.tx, plan.key, due) is None:
        await create(ctx, plan, due)
    # after an outage, occurrences whose whole window has passed are skipped, not replayed
    window = plan.finish_within + plan.grace
    nxt = plan.schedule.next_after(max(due, ctx.now - window), ctx.config.zone)
    if nxt is not None:
        await timers.schedule(ctx.tx, timer.key, Due.OCCURS, nxt, payload={"plan": plan.key})


async def create(ctx: Ctx, plan: Plan, due: datetime) -> InspectionRun:
    engineer = await assign.pick(ctx, plan)
    run = InspectionRun(
        plan_key=plan.key, plan_name=plan.label(ctx.texts.default)[:200], site=plan.site,
        due_at=due, deadline=due + plan.finish_within,
        assignee_id=engineer.id if engineer else None,
        items=[i.as_dict() for i in plan.items],
    )
    ctx.tx.add(run)
    await ctx.tx.flush()
    missed_at = run.deadline + plan.grace
    if ctx.now >= missed_at:  # the desk was down past the whole window: recorded, not sent
        await miss(ctx, run)
        return run
    await _schedule(ctx, run, due + plan.start_within, missed_at)
    fields = run_fields(run, plan)
    plots = lazy("inspection.plots_line", plots="、".join(plan.plots)) if plan.plots else ""
    if engineer is not None:
        await ctx.notify(engineer, "inspection.intro", intro_rows(run), plots=plots,
                         start_by=due + plan.start_within, **fields)
        return run
    for manager in await people.managers_for(ctx.tx, run.site):
        await ctx.notify(manager, "inspection.nobody", **fields)
    return run


async def _schedule(ctx: Ctx, run: InspectionRun, start_by: datetime,
                    missed_at: datetime) -> None:
    """The run's clocks; one whose time has passed already is not set (no burst of stale
    reminders after a long outage)."""
    payload = {"run": run.id, "missed_at": missed_at.isoformat()}
    for kind, at in ((Due.REMIND, start_by), (Due.OVERDUE, run.deadline),
                     (Due.MISSED, missed_at)):
        if at > ctx.now or kind is Due.MISSED:
            await timers.schedule(ctx.tx, run_key(kind, run), kind, at, payload=payload)


async def _run(ctx: Ctx, timer: Timer) -> InspectionRun | None:
    run = await inspections.get(ctx.tx, int(timer.payload.get("run", 0)), lock=True)
    if run is None or run.state not in UNFINISHED:
        return None
    logctx.set(inspection=run.id)
    return run


@router.timer(Due.REMIND)
async def remind(ctx: Ctx, timer: Timer) -> None:
    run = await _run(ctx, timer)
    engineer = await assignee(ctx, run) if run is not None else None
    if run is None or engineer is None or run.state != RunState.DUE:
        return
    await ctx.notify(engineer, "inspection.remind_start", intro_rows(run),
                     **run_fields(run, plan_of(ctx, run)))


@router.timer(Due.OVERDUE)
async def overdue(ctx: Ctx, timer: Timer) -> None:
    run = await _run(ctx, timer)
    engineer = await assignee(ctx, run) if run is not None else None
    if run is None or engineer is None:
        return
    missed_at = datetime.fromisoformat(str(timer.payload.get("missed_at")))
    rows = intro_rows(run) if run.state == RunState.DUE else resume_rows(run)
    await ctx.notify(engineer, "inspection.overdue", rows, missed_at=missed_at,
                     **run_fields(run, plan_of(ctx, run)))


@router.timer(Due.MISSED)
async def missed(ctx: Ctx, timer: Timer) -> None:
    run = await _run(ctx, timer)
    if run is not None:
        await miss(ctx, run)


async def miss(ctx: Ctx, run: InspectionRun) -> None:
    """Recorded as missed; the engineer and the site's managers are told, and what was
    found abnormal so far still becomes tickets."""
    run.state = str(RunState.MISSED)
    ctx.tx.add(run)
    await timers.cancel(ctx.tx, *(run_key(k, run) for k in (Due.REMIND, Due.OVERDUE)))
    found = await findings.open_tickets(ctx, run)
    fields = run_fields(run, plan_of(ctx, run))
    engineer = await assignee(ctx, run)
    if engineer is not None:
        await ctx.notify(engineer, "inspection.missed_engineer", **fields)
    who = engineer.name if engineer else lazy("inspection.nobody_name")
    for manager in await people.managers_for(ctx.tx, run.site):
        await ctx.notify(manager, "inspection.missed_manager", who=who,
                         findings=findings.lines(ctx, found), **fields)

