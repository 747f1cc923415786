"""The on-call rota in chat: `/oncall` (值班表) shows who is on duty now and next at each site,
and `/swap` (换班) lets an engineer ask a colleague to take one of their shifts.

    /swap → one of my shifts of the next 14 days (w:<dialogue>:shift:<i>, or its number typed)
          → a colleague of the site or with my skills (w:<dialogue>:to:<person>, or the number
            or name typed)
          → the colleague gets 接受 / 拒绝 (w:<swap>:ok|no); the asker is told either way, the
            site's managers when it is accepted; unanswered when the shift begins, it expires.

The choices carry the dialogue's number (not the core's `i:` nonce), so a button of an earlier
/swap or step is answered in words about swaps, not about reports.

An accepted swap puts the colleague on that shift in the asker's place: paging and /oncall
read it through handlers/flows/jobs/duty.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from handlers.core import tokens
from handlers.core.context import IDLE, Ctx, Rows
from handlers.core.errors import BadButton, NotAllowed, StaleAction
from handlers.core.messages import FileRef
from handlers.core.router import Router
from handlers.core.texts import lazy
from handlers.flows.jobs import duty
from handlers.flows.jobs.summary import MANAGERS, STAFF
from handlers.rules.oncall import SiteRota
from handlers.rules.shifts import Slot, people_of
from storage import people, sites, swaps, timers
from storage.models import Person, ShiftSwap, SwapState, Timer

router = Router("oncall")
SCOPE = "w"  # w:<dialogue number>:shift|to:<arg>, and the colleague's w:<swap id>:ok|no
DAYS_AHEAD = 14  # the shifts /swap offers
MAX_SHIFTS = 10
MAX_COLLEAGUES = 8


class Action(StrEnum):
    SHIFT = "shift"  # which of my shifts (arg: its number in the list shown, from 0)
    TO = "to"  # which colleague (arg: their person id, checked against the list shown)
    ACCEPT = "ok"
    DECLINE = "no"


class State(StrEnum):
    SHIFT = "swap_shift"
    TO = "swap_to"


class Due(StrEnum):
    EXPIRE = "swap_expire"


@dataclass
class Swapping:
    """A swap being asked: the dialogue's number, the shifts offered ([site, start, end] in
    ISO form), the one picked and the colleagues offered for it."""

    n: str = ""
    shifts: list[list[str]] = field(default_factory=list)
    shift: int = -1
    to: list[int] = field(default_factory=list)


router.cancellable((State.SHIFT, State.TO), "swap.cancelled")


# --- /oncall -------------------------------------------------------------------------------

@router.command("oncall", registered=True)
async def show(ctx: Ctx, arg: str) -> None:
    """/oncall [SITE]: now and next per site, in each site's time."""
    assert ctx.person is not None
    if ctx.person.role not in STAFF:
        await ctx.reply("oncall.not_for_you")
        return
    plans = list(ctx.config.rota.sites.values())
    if arg.strip():
        plan = duty.plan_for(ctx, arg)
        if plan is None:
            await ctx.reply("oncall.unknown_site", site=arg.strip()[:100],
                            sites=_names_or_none(ctx, [p.name for p in plans]))
            return
        plans = [plan]
    names = {p.id: _who(p) for p in await people.people_with_roles(ctx.tx, duty.ROTA_ROLES)}
    lines = [ctx.t("oncall.header") if plans else ctx.t("oncall.no_rota")]
    for plan in plans:
        lines += await _site_lines(ctx, plan, names)
    if not arg.strip():
        off = await duty.off_rota(ctx)
        lines.append(ctx.t("oncall.off_rota", names=_joined(ctx, [_who(p) for p in off])))
    if ctx.person.role in MANAGERS:
        lines += await _problems(ctx)
    await ctx.reply_text("\n".join(lines))


@router.on_words("值班表", "谁值班", "oncall", "on call")
async def show_words(ctx: Ctx, text: str) -> None:
    await show(ctx, "")


async def _site_lines(ctx: Ctx, plan: SiteRota, names: dict[int | None, str]) -> list[str]:
    d = await duty.site_duty(ctx, plan)
    zone = plan.zone
    lines = [ctx.t("oncall.site", site=plan.name, zone=str(zone))]
    now = _joined(ctx, [names.get(i, "-") for i in d.now])
    lines.append(ctx.t("oncall.now_until", names=now, until=_moment(ctx, d.until, zone))
                 if d.until else ctx.t("oncall.now", names=now))
    if d.until:
        later = _joined(ctx, [names.get(i, "-") for i in d.next])
        lines.append(ctx.t("oncall.next", names=later, at=_moment(ctx, d.until, zone)))
    return lines


async def _problems(ctx: Ctx) -> list[str]:
    """What a manager should fix in the rota: names no one has, sites no one is at."""
    rota = ctx.config.rota
    found = [str(p) for p in (await duty.roster(ctx)).problems(rota)]
    known = {sites.key(s) for s in await sites.known(ctx.tx)}
    found += [f"{rota.path}:{p.line}: {ctx.t('oncall.no_such_site', site=p.name)}"
              for p in rota.sites.values() if sites.key(p.name) not in known]
    return [ctx.t("oncall.problems", lines="\n".join(found))] if found else []


def _who(p: Person) -> str:
    return f"{p.name}（{p.phone}）" if p.phone else p.name


def _joined(ctx: Ctx, names: list[str]) -> str:
    return ctx.t("oncall.comma").join(names) if names else ctx.t("oncall.nobody")


def _names_or_none(ctx: Ctx, names: list[str]) -> str:
    return ctx.t("oncall.comma").join(names) if names else ctx.t("oncall.no_sites")


def _moment(ctx: Ctx, when: datetime, zone: ZoneInfo) -> Callable[[str], str]:
    """"18:00", "明天 08:00" or "周六 11/28 08:00", in the site's zone and each reader's
    language."""
    def render(lang: str) -> str:
        local, today = when.astimezone(zone), ctx.now.astimezone(zone).date()
        hm = local.strftime("%H:%M")
        if local.date() == today:
            return hm
        if local.date() == today + timedelta(days=1):
            return ctx.t("oncall.tomorrow", lang, time=hm)
        return ctx.t("oncall.on_day", lang, day=_day(ctx, lang, local),
                     date=f"{local.month}/{local.day}", time=hm)
    return render


def _shift(ctx: Ctx, site: str, start: datetime, end: datetime) -> Callable[[str], str]:
    """"一号园区 周六 11/28 08:00–18:00" (the end "次日 08:00" past midnight), site time."""
    plan = duty.plan_for(ctx, site)
    zone = plan.zone if plan else ctx.config.zone

    def render(lang: str) -> str:
        a, b = start.astimezone(zone), end.astimezone(zone)
        days = (b.date() - a.date()).days
        if days == 0:
            until = f"{b:%H:%M}"
        elif days == 1 and (b.hour, b.minute) == (0, 0):
            until = "24:00"
        elif days == 1:
            until = ctx.t("swap.next_day", lang, time=f"{b:%H:%M}")
        else:
            until = f"{b.month}/{b.day} {b:%H:%M}"
        return ctx.t("swap.shift", lang, site=site, day=_day(ctx, lang, a),
                     date=f"{a.month}/{a.day}", start=f"{a:%H:%M}", end=until)
    return render


def _day(ctx: Ctx, lang: str, local: datetime) -> str:
    return ctx.t(f"oncall.day_{local.weekday()}", lang)


# --- /swap: pick a shift, pick a colleague -------------------------------------------------

@router.command("swap", registered=True)
async def start(ctx: Ctx, arg: str) -> None:
    """An engineer asks a colleague to take one of their next shifts."""
    me = ctx.person
    assert me is not None
    if me.role not in duty.ROTA_ROLES:
        await ctx.reply("swap.engineers_only")
        return
    if not ctx.config.rota.sites:
        await ctx.reply("swap.no_rota")
        return
    mine = (await duty.my_next(ctx, me.id or 0, DAYS_AHEAD))[:MAX_SHIFTS]
    if not mine:
        await ctx.reply("swap.no_shifts", days=DAYS_AHEAD)
        return
    nonce = str(secrets.randbelow(10**9))
    rows: Rows = [[(lazy("swap.shift_button", n=i + 1, day=_short(ctx, s)),
                    tokens.encode(SCOPE, nonce, Action.SHIFT, i))] for i, s in enumerate(mine)]
    listed = "\n".join(f"{i + 1}. {_shift(ctx, s.site, s.start, s.end)(ctx.lang)}"
                       for i, s in enumerate(mine))
    ctx.set_state(State.SHIFT, Swapping(n=nonce, shifts=[
        [s.site, s.start.isoformat(), s.end.isoformat()] for s in mine]))
    await ctx.reply("swap.pick_shift", rows, days=DAYS_AHEAD, shifts=listed)


def _short(ctx: Ctx, slot: Slot) -> Callable[[str], str]:
    """A shift on a button: "周六 11/28 08:00" (the message lists it whole)."""
    plan = duty.plan_for(ctx, slot.site)
    local = slot.start.astimezone(plan.zone if plan else ctx.config.zone)
    return lambda lang: ctx.t("oncall.on_day", lang, day=_day(ctx, lang, local),
                              date=f"{local.month}/{local.day}", time=f"{local:%H:%M}")


@router.on_words("换班", "swap")
async def start_words(ctx: Ctx, text: str) -> None:
    await start(ctx, "")


@router.record_button(SCOPE, Action.SHIFT, roles=STAFF, arg=r"\d{1,2}")
async def pick_shift(ctx: Ctx, dialogue: int, arg: str) -> None:
    _current(ctx, dialogue, State.SHIFT)
    await _shift_chosen(ctx, int(arg))


def _current(ctx: Ctx, dialogue: int, state: State) -> None:
    """A choice counts only in the /swap it was offered in, at the step it was offered for."""
    if ctx.data(Swapping).n != str(dialogue) or ctx.state not in set(State):
        raise StaleAction("swap.old_button")
    if ctx.state != state:
        raise StaleAction("swap.earlier_step")


@router.text(State.SHIFT)
async def typed_shift(ctx: Ctx, text: str) -> None:
    """The shift's number typed instead of pressed."""
    offered = len(ctx.data(Swapping).shifts)
    number = text.strip()
    if not number.isdigit() or not 1 <= int(number) <= offered:
        await ctx.reply("swap.use_buttons", count=offered)
        return
    await _shift_chosen(ctx, int(number) - 1)


async def _shift_chosen(ctx: Ctx, index: int) -> None:
    data = ctx.data(Swapping)
    if not 0 <= index < len(data.shifts):
        raise BadButton()
    slot = await _still_mine(ctx, data.shifts[index])
    me = ctx.person
    assert me is not None
    waiting = await swaps.asked(ctx.tx, me.id or 0, slot.site, slot.start)
    if waiting is not None:
        ctx.set_state(IDLE)
        colleague = await ctx.tx.get(Person, waiting.to_id)
        await ctx.reply("swap.already_asked", name=colleague.name if colleague else "-",
                        shift=_shift(ctx, slot.site, slot.start, slot.end))
        return
    mates = await _colleagues(ctx, me, slot)
    shift = _shift(ctx, slot.site, slot.start, slot.end)
    if not mates:
        ctx.set_state(IDLE)
        await ctx.reply("swap.no_colleague", shift=shift)
        return
    rows: Rows = [[(lazy("swap.colleague", n=i + 1, name=p.name, site=p.site or "-"),
                    tokens.encode(SCOPE, data.n, Action.TO, p.id))] for i, p in enumerate(mates)]
    ctx.set_state(State.TO, Swapping(n=data.n, shifts=data.shifts, shift=index,
                                     to=[p.id or 0 for p in mates]))
    await ctx.reply("swap.pick_colleague", rows, shift=shift)


async def _still_mine(ctx: Ctx, offered: list[str]) -> Slot:
    """The shift as offered, if it has not begun and is still this person's (the rota file,
    an override or another swap may have changed it since)."""
    assert ctx.person is not None
    site, begins, ends = offered[0], datetime.fromisoformat(offered[1]), \
        datetime.fromisoformat(offered[2])
    for slot in await duty.my_next(ctx, ctx.person.id or 0, DAYS_AHEAD + 1):
        if (slot.site, slot.start, slot.end) == (site, begins, ends):
            return slot
    raise StaleAction("swap.gone", reset=True)


async def _colleagues(ctx: Ctx, me: Person, slot: Slot) -> list[Person]:
    """Engineers who could take it: at the shift's site or sharing a skill, on duty (not
    /duty off), not on that shift already; the site's people first."""
    team = await duty.roster(ctx)
    on_it = set(people_of(slot, team, await duty.agreed(ctx, slot.start, slot.end)))
    mine = set(me.skills or [])
    here = sites.key(slot.site)

    def fits(p: Person) -> bool:
        return sites.key(p.site) == here or bool(mine & set(p.skills or []))

    pool = [p for p in await people.people_with_roles(ctx.tx, duty.ROTA_ROLES)
            if p.id != me.id and p.id not in on_it and p.on_duty and fits(p)]
    pool.sort(key=lambda p: (sites.key(p.site) != here, -len(mine & set(p.skills or [])),
                             p.id or 0))
    return pool[:MAX_COLLEAGUES]


@router.record_button(SCOPE, Action.TO, roles=STAFF, arg=r"\d{1,10}")
async def pick_colleague(ctx: Ctx, dialogue: int, arg: str) -> None:
    _current(ctx, dialogue, State.TO)
    await _ask(ctx, int(arg))


@router.text(State.TO)
async def typed_colleague(ctx: Ctx, text: str) -> None:
    """The colleague's number or name typed instead of pressed."""
    offered = ctx.data(Swapping).to
    typed = text.strip()
    if typed.isdigit() and 1 <= int(typed) <= len(offered):
        await _ask(ctx, offered[int(typed) - 1])
        return
    for person_id in offered:
        person = await ctx.tx.get(Person, person_id)
        if person is not None and person.name == typed:
            await _ask(ctx, person_id)
            return
    await ctx.reply("swap.use_buttons", count=len(offered))


@router.photo(State.SHIFT, State.TO)
async def photo_instead(ctx: Ctx, ref: FileRef | None) -> None:
    await ctx.reply("swap.use_buttons", count=len(_choices(ctx)))


@router.location(State.SHIFT, State.TO)
async def location_instead(ctx: Ctx, where: tuple[float, float]) -> None:
    await ctx.reply("swap.use_buttons", count=len(_choices(ctx)))


def _choices(ctx: Ctx) -> list[int] | list[list[str]]:
    data = ctx.data(Swapping)
    return data.to if ctx.state == State.TO else data.shifts


async def _ask(ctx: Ctx, colleague_id: int) -> None:
    data = ctx.data(Swapping)
    me = ctx.person
    assert me is not None
    if colleague_id not in data.to or not 0 <= data.shift < len(data.shifts):
        raise NotAllowed("swap.not_offered")  # a forged button: only the people shown
    slot = await _still_mine(ctx, data.shifts[data.shift])
    colleague = await ctx.tx.get(Person, colleague_id)
    if colleague is None or not colleague.active:
        raise StaleAction("swap.gone", reset=True)
    ctx.set_state(IDLE)
    swap = ShiftSwap(site=slot.site, starts_at=slot.start, ends_at=slot.end, from_id=me.id or 0,
                     to_id=colleague_id, asked_at=ctx.now)
    ctx.tx.add(swap)
    await ctx.tx.flush()
    shift = _shift(ctx, slot.site, slot.start, slot.end)
    rows = [[("swap.accept", tokens.encode(SCOPE, swap.id or 0, Action.ACCEPT)),
             ("swap.decline", tokens.encode(SCOPE, swap.id or 0, Action.DECLINE))]]
    key = ctx.next_key()
    if await ctx.notify(colleague, "swap.ask", rows, key=key, name=me.name, shift=shift) is None:
        swap.state = str(SwapState.CANCELLED)
        await ctx.reply("swap.unreachable", name=colleague.name)
        return
    swap.message_key = key
    ctx.tx.add(swap)
    await timers.schedule(ctx.tx, f"{Due.EXPIRE}:{swap.id}", Due.EXPIRE, slot.start,
                          payload={"swap": swap.id})
    await ctx.reply("swap.asked", name=colleague.name, shift=shift)


# --- the colleague's answer, and expiry ----------------------------------------------------

async def _open_swap(ctx: Ctx, swap_id: int) -> tuple[ShiftSwap, Person]:
    """The swap a colleague answers: theirs, still asked, its shift not begun."""
    me = ctx.person
    assert me is not None
    swap = await swaps.get(ctx.tx, swap_id)
    if swap is None:
        raise BadButton()
    if swap.to_id != me.id:
        raise NotAllowed("swap.not_yours")
    if swap.state != SwapState.ASKED:
        raise StaleAction("swap.answered", state=lazy(f"swap.state_{swap.state}"))
    if swap.starts_at <= ctx.now:
        raise StaleAction("swap.started", shift=_shift(ctx, swap.site, swap.starts_at,
                                                       swap.ends_at))
    asker = await ctx.tx.get(Person, swap.from_id)
    if asker is None:
        raise StaleAction("swap.gone")
    return swap, asker


@router.record_button(SCOPE, Action.ACCEPT, roles=STAFF)
async def accept(ctx: Ctx, swap_id: int, arg: str) -> None:
    swap, asker = await _open_swap(ctx, swap_id)
    me = ctx.person
    assert me is not None
    shift = _shift(ctx, swap.site, swap.starts_at, swap.ends_at)
    theirs = [s for s in await duty.my_next(ctx, asker.id or 0, DAYS_AHEAD + 1)
              if (s.site, s.start, s.end) == (swap.site, swap.starts_at, swap.ends_at)]
    if not theirs:  # the rota changed under the question: nothing left to take over
        await _close(ctx, swap, SwapState.CANCELLED)
        await ctx.edit(swap.message_key, me, "swap.no_longer", name=asker.name, shift=shift)
        await ctx.notify(asker, "swap.no_longer_asker", shift=shift)
        return
    await _close(ctx, swap, SwapState.ACCEPTED)
    await ctx.edit(swap.message_key, me, "swap.accepted_to", name=asker.name, shift=shift)
    await ctx.notify(asker, "swap.accepted_from", name=me.name, shift=shift)
    for manager in await people.managers_for(ctx.tx, swap.site):
        await ctx.notify(manager, "swap.to_manager", to=me.name, frm=asker.name, shift=shift)


@router.record_button(SCOPE, Action.DECLINE, roles=STAFF)
async def decline(ctx: Ctx, swap_id: int, arg: str) -> None:
    swap, asker = await _open_swap(ctx, swap_id)
    me = ctx.person
    assert me is not None
    shift = _shift(ctx, swap.site, swap.starts_at, swap.ends_at)
    await _close(ctx, swap, SwapState.DECLINED)
    await ctx.edit(swap.message_key, me, "swap.declined_to", name=asker.name, shift=shift)
    await ctx.notify(asker, "swap.declined_from", name=me.name, shift=shift)


async def _close(ctx: Ctx, swap: ShiftSwap, state: SwapState) -> None:
    swap.state, swap.answered_at = str(state), ctx.now
    ctx.tx.add(swap)
    await timers.cancel(ctx.tx, f"{Due.EXPIRE}:{swap.id}")


@router.timer(Due.EXPIRE)
async def expire(ctx: Ctx, timer: Timer) -> None:
    """Nobody answered before the shift began: it stays the asker's, who is told."""
    swap = await swaps.get(ctx.tx, int(timer.payload.get("swap", 0)))
    if swap is None or swap.state != SwapState.ASKED:
        return
    swap.state, swap.answered_at = str(SwapState.EXPIRED), ctx.now
    ctx.tx.add(swap)
    shift = _shift(ctx, swap.site, swap.starts_at, swap.ends_at)
    asker, colleague = (await ctx.tx.get(Person, swap.from_id),
                        await ctx.tx.get(Person, swap.to_id))
    if colleague is not None:
        await ctx.edit(swap.message_key, colleague, "swap.expired_to",
                       name=asker.name if asker else "-", shift=shift)
    if asker is not None:
        await ctx.notify(asker, "swap.expired_from", name=colleague.name if colleague else "-",
                         shift=shift)
