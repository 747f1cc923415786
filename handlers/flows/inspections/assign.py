"""Who does an inspection: someone on duty when it comes due, as paging decides it
(`jobs/duty.available`: the rota's people on shift at the plan's site first, then everyone
else on duty now); within each, those with the plan's skills first, then those who work at
its site, then the fewest open jobs."""

from __future__ import annotations

from handlers.core.context import Ctx
from handlers.flows.jobs import duty
from handlers.rules.inspections import Plan
from storage import people, sites
from storage.models import Person


async def pick(ctx: Ctx, plan: Plan) -> Person | None:
    """The best engineer on duty now for this plan; None when nobody is."""
    here, others = await duty.available(ctx, plan.site)
    pool = here + others
    if not pool:
        return None
    load = await people.open_job_counts(ctx.tx, [p.id for p in pool if p.id is not None])
    wanted, local = set(plan.skills), {p.id for p in here}

    def rank(p: Person) -> tuple[bool, bool, bool, int, int]:
        skilled = bool(wanted & set(p.skills or [])) or not wanted
        works_there = sites.key(p.site or "") == sites.key(plan.site)
        return (p.id not in local, not skilled, not works_there, load.get(p.id or 0, 0),
                p.id or 0)

    return min(pool, key=rank)
