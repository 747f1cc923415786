"""The engineer goes through a checklist in chat, one item at a time.

    intro ──开始──► item 1 ──answer──► item 2 … ──last answer──► summary (+ a ticket a finding)
    正常 / 异常 buttons (or the words), a typed number ("3,8", "3.8V"), a photo, or text;
    异常 asks what is wrong (text or a photo, or 跳过); optional items have 跳过.
    暂停 (button, or the word) keeps the place; 继续 / /inspect / 继续巡检 carry on.

Every button names the run and, for answers, the item's index: a press for an item already
answered, for someone else's run, or for a run done or missed gets a clear reply.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from handlers.core.context import IDLE, Ctx, Rows
from handlers.core.errors import StaleAction
from handlers.core.messages import FileRef, Kind
from handlers.core.texts import lazy
from handlers.flows.inspections import findings
from handlers.flows.inspections.base import (
    DOERS,
    SCOPE,
    Action,
    Due,
    State,
    Walking,
    button,
    example,
    items,
    mine,
    normal_range,
    number_text,
    plan_name,
    plan_of,
    resume_rows,
    router,
    run_fields,
    run_key,
)
from handlers.rules.inspections import Item
from storage import inspections, timers
from storage.models import InspectionReading, InspectionRun, RunState

ITEM = r"\d{1,2}"
MAX_TEXT = 500
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
PASS_WORDS = frozenset(("正常", "好", "好的", "良好", "没问题", "ok", "pass", "good", "normal",
                        "yes", "y", "是"))
FAIL_WORDS = frozenset(("异常", "不正常", "坏", "坏了", "有问题", "fail", "fault", "bad",
                        "abnormal", "no", "n", "否"))
PAUSE_WORDS = frozenset(("暂停", "pause"))
SKIP_WORDS = frozenset(("跳过", "skip"))

router.cancellable(State, "inspection.cancelled")


def parse_number(text: str, unit: str) -> float | None:
    """A typed reading: full-width digits, a decimal comma ("3,8") and the unit ("3.8V",
    "0.25 MPa") are fine; anything else (words, "1e5", "nan", two numbers) is None."""
    s = unicodedata.normalize("NFKC", text).strip().replace("\u2212", "-")[:40]
    if unit and s.casefold().endswith(unicodedata.normalize("NFKC", unit).casefold()):
        s = s[: -len(unicodedata.normalize("NFKC", unit))].strip()
    if s.count(",") == 1 and "." not in s:
        s = s.replace(",", ".")
    return float(s) if NUMBER.fullmatch(s) else None


# ── entry points ────────────────────────────────────────────────────────────────────────────

@router.record_button(SCOPE, Action.START)
async def start(ctx: Ctx, run_id: int, arg: str) -> None:
    await begin(ctx, await mine(ctx, run_id))


@router.record_button(SCOPE, Action.RESUME)
async def resume(ctx: Ctx, run_id: int, arg: str) -> None:
    await begin(ctx, await mine(ctx, run_id))


@router.record_button(SCOPE, Action.LATER)
async def later(ctx: Ctx, run_id: int, arg: str) -> None:
    run = await mine(ctx, run_id)
    rows = [[("inspection.button_start", button(run, Action.START))]]
    await ctx.reply("inspection.later", rows, **run_fields(run, plan_of(ctx, run)))


@router.command("inspect", roles=DOERS)
@router.on_words("继续巡检", "开始巡检", "巡检任务")
async def inspect(ctx: Ctx, arg: str) -> None:
    """Carry on with (or start) my inspection; several waiting: choose one."""
    assert ctx.person is not None
    if ctx.person.role not in DOERS:
        await ctx.reply("inspection.not_a_doer")
        return
    waiting = await inspections.unfinished_of(ctx.tx, ctx.person.id or 0) \
        or await inspections.unassigned(ctx.tx)
    if not waiting:
        await ctx.reply("inspection.none_open")
        return
    if len(waiting) == 1:
        await begin(ctx, await mine(ctx, waiting[0].id or 0))
        return
    rows: Rows = [[(lazy("inspection.run_button", plan=plan_name(r, plan_of(ctx, r)),
                         due=r.due_at), button(r, Action.START))] for r in waiting[:8]]
    await ctx.reply("inspection.pick_run", rows, count=len(waiting))


async def begin(ctx: Ctx, run: InspectionRun) -> None:
    """Start or carry on: the run is being answered, the person is in its dialogue."""
    if await _answered(ctx, run):  # paused while asked what was wrong: that note is skipped
        await advance(ctx, run, lazy("inspection.recorded_fail"))
        return
    if run.state == RunState.DUE:
        run.started_at = ctx.now
        await timers.cancel(ctx.tx, run_key(Due.REMIND, run))
    run.state = str(RunState.STARTED)
    ctx.tx.add(run)
    ctx.set_state(State.ANSWER, Walking(run=run.id or 0))
    await ask(ctx, run)


# ── one item ────────────────────────────────────────────────────────────────────────────────

def current(run: InspectionRun) -> Item:
    return items(run)[run.current_item]


async def ask(ctx: Ctx, run: InspectionRun, ack: Any = "") -> None:
    item = current(run)
    rows: list[list[tuple[Any, str]]] = []
    i = run.current_item
    if item.kind == "pass_fail":
        rows.append([("inspection.button_ok", button(run, Action.PASS, i)),
                     ("inspection.button_fail", button(run, Action.FAIL, i))])
    if not item.required:
        rows.append([("inspection.button_skip", button(run, Action.SKIP, i))])
    rows.append([("inspection.button_pause", button(run, Action.PAUSE))])
    hint = _hint(item)
    await ctx.reply("inspection.item", rows, ack=ack, n=i + 1, count=len(run.items),
                    item=item.label, hint=hint,
                    optional=lazy("inspection.optional") if not item.required else "")


def _hint(item: Item) -> Any:
    if item.kind == "number":
        return lazy("inspection.hint_number", range=normal_range(item), example=example(item))
    return lazy(f"inspection.hint_{item.kind}")


def _this_item(ctx: Ctx, run: InspectionRun, arg: str) -> Item:
    """The item a button names, if it is still the one being asked."""
    if ctx.state == State.NOTE and ctx.data(Walking).run == run.id:
        raise StaleAction("inspection.note_first", item=current(run).label)
    if run.current_item >= len(run.items) or int(arg) != run.current_item:
        raise StaleAction("inspection.answered", n=min(run.current_item + 1, len(run.items)),
                          count=len(run.items))
    return current(run)


@router.record_button(SCOPE, Action.PASS, arg=ITEM)
async def passed(ctx: Ctx, run_id: int, arg: str) -> None:
    run = await mine(ctx, run_id)
    item = _this_item(ctx, run, arg)
    if item.kind != "pass_fail":
        raise StaleAction("inspection.answered", n=run.current_item + 1, count=len(run.items))
    await _pass_fail(ctx, run, item, ok=True)


@router.record_button(SCOPE, Action.FAIL, arg=ITEM)
async def failed(ctx: Ctx, run_id: int, arg: str) -> None:
    run = await mine(ctx, run_id)
    item = _this_item(ctx, run, arg)
    if item.kind != "pass_fail":
        raise StaleAction("inspection.answered", n=run.current_item + 1, count=len(run.items))
    await _pass_fail(ctx, run, item, ok=False)


async def _pass_fail(ctx: Ctx, run: InspectionRun, item: Item, *, ok: bool) -> None:
    await _record(ctx, run, item, ok=ok)
    if ok:
        await advance(ctx, run, lazy("inspection.recorded", value=lazy("inspection.pass")))
        return
    run.state = str(RunState.STARTED)
    ctx.tx.add(run)
    ctx.set_state(State.NOTE, Walking(run=run.id or 0, note=run.current_item))
    rows = [[("inspection.button_skip", button(run, Action.SKIP, run.current_item))]]
    await ctx.reply("inspection.ask_note", rows, item=item.label)


@router.record_button(SCOPE, Action.SKIP, arg=ITEM)
async def skip(ctx: Ctx, run_id: int, arg: str) -> None:
    run = await mine(ctx, run_id)
    if ctx.state == State.NOTE and ctx.data(Walking) == Walking(run.id or 0, int(arg)):
        await advance(ctx, run, lazy("inspection.recorded_fail"))
        return
    item = _this_item(ctx, run, arg)
    await _skip(ctx, run, item)


async def _skip(ctx: Ctx, run: InspectionRun, item: Item) -> None:
    if item.required:
        await ctx.reply("inspection.not_optional")
        return
    await _record(ctx, run, item)
    await advance(ctx, run, lazy("inspection.recorded", value=lazy("inspection.skipped")))


@router.record_button(SCOPE, Action.PAUSE)
async def pause_pressed(ctx: Ctx, run_id: int, arg: str) -> None:
    await pause(ctx, await mine(ctx, run_id))


async def pause(ctx: Ctx, run: InspectionRun) -> None:
    run.state = str(RunState.PAUSED)
    ctx.tx.add(run)
    ctx.set_state(IDLE)
    await ctx.reply("inspection.paused", resume_rows(run), **run_fields(run, plan_of(ctx, run)))


# ── typed answers, photos ───────────────────────────────────────────────────────────────────

async def _walking(ctx: Ctx) -> InspectionRun:
    run = await mine(ctx, ctx.data(Walking).run)
    if run.state != RunState.STARTED:  # paused elsewhere (a button in another chat)
        run.state = str(RunState.STARTED)
        ctx.tx.add(run)
    return run


@router.text(State.ANSWER)
async def typed(ctx: Ctx, text: str) -> None:
    run = await _walking(ctx)
    item, word = current(run), text.strip().casefold()
    if word in PAUSE_WORDS:
        await pause(ctx, run)
    elif word in SKIP_WORDS:
        await _skip(ctx, run, item)
    elif item.kind == "pass_fail":
        if word in PASS_WORDS or word in FAIL_WORDS:
            await _pass_fail(ctx, run, item, ok=word in PASS_WORDS)
        else:
            await ctx.reply("inspection.need_pass_fail")
    elif item.kind == "number":
        await _number(ctx, run, item, text)
    elif item.kind == "photo":
        await ctx.reply("inspection.need_photo", item=item.label, skip=_skip_hint(item))
    else:
        await _record(ctx, run, item, value=text.strip()[:MAX_TEXT])
        await advance(ctx, run, lazy("inspection.recorded", value=text.strip()[:40]))


async def _number(ctx: Ctx, run: InspectionRun, item: Item, text: str) -> None:
    value = parse_number(text, item.unit)
    if value is None:
        await ctx.reply("inspection.not_a_number", text=text.strip()[:40], item=item.label,
                        example=example(item))
        return
    shown = number_text(value, item.unit)
    if not item.sane(value):
        await ctx.reply("inspection.absurd", value=shown, item=item.label,
                        range=normal_range(item))
        return
    ok = item.normal(value)
    await _record(ctx, run, item, ok=ok, number=value)
    ack = lazy("inspection.recorded", value=shown) if ok else \
        lazy("inspection.recorded_out", value=shown, range=normal_range(item))
    await advance(ctx, run, ack)


@router.text(State.NOTE)
async def note(ctx: Ctx, text: str) -> None:
    run = await _walking(ctx)
    word = text.strip().casefold()
    if word in PAUSE_WORDS:
        await pause(ctx, run)
        return
    if word in SKIP_WORDS:
        await advance(ctx, run, lazy("inspection.recorded_fail"))
        return
    reading = await _reading(ctx, run)
    reading.value = text.strip()[:MAX_TEXT]
    ctx.tx.add(reading)
    await advance(ctx, run, lazy("inspection.recorded_fail"))


@router.photo(State.ANSWER, State.NOTE)
async def photo(ctx: Ctx, ref: FileRef | None) -> None:
    run = await _walking(ctx)
    item = current(run)
    voice = ctx.incoming is not None and ctx.incoming.kind is Kind.VOICE
    if voice or ref is None or not ref.key:
        await ctx.reply("inspection.voice_not_photo" if voice else "photo.failed")
        return
    kept = {"key": ref.key, "name": ref.name, "mime": ref.mime, "size": ref.size}
    if ctx.state == State.NOTE:
        reading = await _reading(ctx, run)
        reading.photo = kept
        ctx.tx.add(reading)
        await advance(ctx, run, lazy("inspection.recorded_fail"))
    elif item.kind == "photo":
        await _record(ctx, run, item, photo=kept)
        await advance(ctx, run, lazy("inspection.recorded", value=lazy("inspection.photo_value")))
    elif item.kind == "number":
        await ctx.reply("inspection.photo_for_number", item=item.label, example=example(item))
    elif item.kind == "pass_fail":
        await ctx.reply("inspection.need_pass_fail")
    else:
        await ctx.reply("inspection.need_text", skip=_skip_hint(item))


def _skip_hint(item: Item) -> Any:
    return "" if item.required else lazy("inspection.skip_hint")


# ── recording and moving on ─────────────────────────────────────────────────────────────────

async def _record(ctx: Ctx, run: InspectionRun, item: Item, *, ok: bool = True,
                  value: str = "", number: float | None = None,
                  photo: dict[str, Any] | None = None) -> InspectionReading:
    reading = InspectionReading(run_id=run.id or 0, item_key=item.key, kind=item.kind,
                                value=value, number=number, photo=photo, ok=ok, at=ctx.now)
    ctx.tx.add(reading)
    await ctx.tx.flush()
    return reading


async def _answered(ctx: Ctx, run: InspectionRun) -> bool:
    if run.current_item >= len(run.items):
        return False
    return any(r.item_key == current(run).key
               for r in await inspections.readings(ctx.tx, run.id or 0))


async def _reading(ctx: Ctx, run: InspectionRun) -> InspectionReading:
    for reading in await inspections.readings(ctx.tx, run.id or 0):
        if reading.item_key == current(run).key:
            return reading
    raise StaleAction("inspection.gone", reset=True)


async def advance(ctx: Ctx, run: InspectionRun, ack: Any) -> None:
    """On to the next item, or the round is finished."""
    run.current_item += 1
    ctx.tx.add(run)
    if run.current_item < len(run.items):
        ctx.set_state(State.ANSWER, Walking(run=run.id or 0))
        await ask(ctx, run, ack)
        return
    await finish(ctx, run, ack)


async def finish(ctx: Ctx, run: InspectionRun, ack: Any) -> None:
    run.state, run.finished_at = str(RunState.DONE), ctx.now
    ctx.tx.add(run)
    ctx.set_state(IDLE)
    await timers.cancel(ctx.tx, *(run_key(k, run) for k in (Due.REMIND, Due.OVERDUE,
                                                            Due.MISSED)))
    found = await findings.open_tickets(ctx, run)
    readings = await inspections.readings(ctx.tx, run.id or 0)
    bad = sum(1 for r in readings if not r.ok)
    await ctx.reply("inspection.done", ack=ack, ok=len(readings) - bad, bad=bad,
                    findings=findings.lines(ctx, found), **run_fields(run, plan_of(ctx, run)))

