"""Who is on duty, gathered: the rota file's shifts (handlers/rules/shifts.py) with the SLA
calendar's holidays, the people, the swaps agreed in chat and /duty.

Paging asks `available(ctx, site)` (the site's people on shift now first, then everyone else
on duty now); `/oncall` asks `site_duty` and `off_rota`. A person the rota names is on duty
only on their shifts; a person it does not name keeps their own hours (`Person.rota`); /duty
off is never paged either way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.core.context import Ctx
from handlers.rules import rota as personal
from handlers.rules.oncall import SiteRota
from handlers.rules.shifts import (
    HORIZON,
    Calendar,
    Duty,
    Roster,
    Slot,
    Swap,
    duty,
    my_slots,
)
from storage import people, sites, swaps
from storage.models import Person, Role

ROTA_ROLES = (Role.ENGINEER, Role.EXPERT)  # whom a rota may name


def calendar(ctx: Ctx) -> Calendar:
    working = ctx.config.sla.working
    return Calendar(working.holidays, working.workdays)


def plan_for(ctx: Ctx, site: str) -> SiteRota | None:
    """The rota of `site` however it is spelt ("一号园区 " is 一号园区); None: it has none."""
    wanted = sites.key(site)
    return next((p for p in ctx.config.rota.sites.values() if sites.key(p.name) == wanted),
                None) if wanted else None


async def roster(ctx: Ctx) -> Roster:
    return Roster(await people.people_with_roles(ctx.tx, ROTA_ROLES))


async def agreed(ctx: Ctx, start: datetime, end: datetime) -> list[Swap]:
    return [Swap(s.site, s.starts_at, s.ends_at, s.from_id, s.to_id)
            for s in await swaps.accepted_between(ctx.tx, start, end)]


async def site_duty(ctx: Ctx, plan: SiteRota, when: datetime | None = None) -> Duty:
    """Who is on duty at the site now, until when, and who comes next."""
    when = when or ctx.now
    agreed_then = await agreed(ctx, when - timedelta(days=1), when + HORIZON)
    return duty(plan, when, await roster(ctx), agreed_then, calendar(ctx))


async def on_shift(ctx: Ctx) -> dict[str, tuple[int, ...]]:
    """Per site of the rota (its key), who is on shift now (swaps and /duty off applied)."""
    team, days, now = await roster(ctx), calendar(ctx), ctx.now
    agreed_now = await agreed(ctx, now, now + timedelta(seconds=1))
    return {sites.key(plan.name): duty(plan, now, team, agreed_now, days).now
            for plan in ctx.config.rota.sites.values()}


async def available(ctx: Ctx, site: str, roles: tuple[Role, ...] = (Role.ENGINEER,),
                    ) -> tuple[list[Person], list[Person]]:
    """(on shift at `site` now, everyone else on duty now) among people with `roles`."""
    shifts_now = await on_shift(ctx)
    here = set(shifts_now.get(sites.key(site), ()))
    anywhere = {i for ids in shifts_now.values() for i in ids}
    named = (await roster(ctx)).named(ctx.config.rota)
    zone = ctx.config.zone
    staff = [p for p in await people.people_with_roles(ctx.tx, roles) if p.on_duty]
    local = [p for p in staff if p.id in here]
    others = [p for p in staff if p.id not in here and (
        p.id in anywhere or (p.id not in named and personal.on_duty(p.rota, ctx.now, zone)))]
    return local, others


async def off_rota(ctx: Ctx, roles: tuple[Role, ...] = ROTA_ROLES) -> list[Person]:
    """People on duty now by their own hours: the rota names them nowhere."""
    named = (await roster(ctx)).named(ctx.config.rota)
    zone = ctx.config.zone
    return [p for p in await people.people_with_roles(ctx.tx, roles)
            if p.on_duty and p.id not in named and personal.on_duty(p.rota, ctx.now, zone)]


async def my_next(ctx: Ctx, person_id: int, days: int) -> list[Slot]:
    """The shifts this person is on that start within `days` days (swaps applied)."""
    start, end = ctx.now, ctx.now + timedelta(days=days)
    return my_slots(ctx.config.rota, person_id, start, end, await roster(ctx),
                    await agreed(ctx, start, end), calendar(ctx))
