"""Intake: a fault described in chat becomes a ticket.

    idle ─text─► [articles shown] ─report it─► impact? ─► summary ─submit─► ticket
                      └─solved─► idle (counted as self-service)

Text typed during the report is added to the description; photos and a location are kept
for the ticket. The conversation row holds everything, so any replica can continue it.
"""

from __future__ import annotations

import secrets
from typing import Any

from handlers import buttons, faults, logctx, selfservice, triage
from handlers.context import Ctx
from handlers.errors import StaleAction
from handlers.jobs import Draft, open_ticket
from handlers.states import INTAKE_STATES, State
from handlers.texts import lazy
from handlers.triage import Impact

MIN_DESCRIPTION_CHARS = 4
MAX_PHOTOS = 10


def clip(ctx: Ctx, text: str) -> tuple[str, bool]:
    limit = ctx.config.max_message_chars
    text = text.strip()
    return (text[:limit], True) if len(text) > limit else (text, False)


async def start(ctx: Ctx, text: str) -> None:
    description, cut = clip(ctx, text)
    if len(description) < MIN_DESCRIPTION_CHARS:
        await ctx.reply("intake.too_short")
        return
    if cut:
        await ctx.reply("intake.kept_first", limit=ctx.config.max_message_chars)
    assert ctx.conv is not None
    carried: dict[str, Any] = {
        k: ctx.conv.data[k] for k in ("photos", "location") if k in ctx.conv.data
    }
    nonce = secrets.token_hex(3)
    data: dict[str, Any] = {"n": nonce, "description": description, **carried}
    shown = await selfservice.offer(ctx, description, nonce)
    if shown:
        ctx.set_state(State.INTAKE_KB, **data, **shown)
        return
    await ask_impact(ctx, data)


async def ask_impact(ctx: Ctx, data: dict[str, Any]) -> None:
    n = data["n"]
    rows = [[(f"impact.{i}", buttons.intake(n, f"imp_{i}"))] for i in Impact]
    ctx.set_state(State.INTAKE_IMPACT, **data)
    await ctx.reply("intake.ask_impact", rows)


async def add_text(ctx: Ctx, text: str) -> None:
    """More words while a report is open: they belong to the description."""
    assert ctx.conv is not None
    data = dict(ctx.conv.data)
    field = "text" if ctx.state is State.INTAKE_CHOICE else "description"
    joined, cut = clip(ctx, f"{data.get(field, '')}\n{text.strip()}")
    data[field] = joined
    ctx.update_data(**data)
    await ctx.reply("intake.kept_first" if cut else "intake.added",
                    limit=ctx.config.max_message_chars)
    await _ask_again(ctx, data)


async def _ask_again(ctx: Ctx, data: dict[str, Any]) -> None:
    if ctx.state is State.INTAKE_CHOICE:
        ctx.set_state(State.IDLE)
        from handlers import reporter

        await reporter.text_while_tickets_open(ctx, data.get("text", ""))
    elif ctx.state is State.INTAKE_KB:
        await ctx.reply("selfservice.ask_again", selfservice.feedback_rows(data["n"]))
    elif ctx.state is State.INTAKE_IMPACT:
        await ask_impact(ctx, data)
    elif ctx.state is State.INTAKE_CONFIRM:
        await confirm(ctx, data)


async def on_button(ctx: Ctx, token: buttons.Token) -> None:
    assert ctx.conv is not None
    data = dict(ctx.conv.data)
    if ctx.state not in INTAKE_STATES or data.get("n") != token.ref:
        raise StaleAction("error.stale_report")
    action = token.action
    if ctx.state is State.INTAKE_CHOICE:
        await _choice(ctx, data, action)
    elif action == "cancel":
        ctx.set_state(State.IDLE)
        await ctx.reply("intake.cancelled")
    elif action in ("kb_ok", "kb_no") and ctx.state is State.INTAKE_KB:
        await _kb_answer(ctx, data, solved=action == "kb_ok")
    elif action.startswith("imp_") and ctx.state is State.INTAKE_IMPACT:
        impact = Impact(action.removeprefix("imp_"))
        data["impact"] = str(impact)
        data["priority"] = triage.priority(impact, data["description"])
        await confirm(ctx, data)
    elif action == "submit" and ctx.state is State.INTAKE_CONFIRM:
        await submit(ctx, data)
    else:
        raise StaleAction("error.stale_report")


async def _choice(ctx: Ctx, data: dict[str, Any], action: str) -> None:
    """The reporter said where the text belongs: an open ticket, or a new fault."""
    from handlers import reporter
    from storage import tickets

    ctx.set_state(State.IDLE)
    if action == "new":
        await start(ctx, data["text"])
        return
    if not action.startswith("add_"):
        raise StaleAction("error.stale_report")
    ticket = await tickets.get(ctx.tx, int(action.removeprefix("add_")), lock=True)
    if ticket is None:
        raise StaleAction("error.stale_report")
    logctx.ticket(ticket.id)
    await reporter.add_note(ctx, ticket, data["text"])


async def _kb_answer(ctx: Ctx, data: dict[str, Any], *, solved: bool) -> None:
    await selfservice.record(ctx, data, solved=solved)
    if solved:
        ctx.set_state(State.IDLE)
        await ctx.reply("selfservice.glad")
        return
    await ask_impact(ctx, data)


async def confirm(ctx: Ctx, data: dict[str, Any]) -> None:
    n, priority = data["n"], data["priority"]
    window = ctx.config.sla.window(priority)
    rows = [[("button.submit", buttons.intake(n, "submit")),
             ("button.cancel", buttons.intake(n, "cancel"))]]
    ctx.set_state(State.INTAKE_CONFIRM, **data)
    await ctx.reply(
        "intake.confirm", rows, description=data["description"],
        site=(ctx.person.site if ctx.person else "") or "-",
        impact=lazy(f"impact.{data['impact']}"), priority=lazy(f"priority.{priority}"),
        response_hours=window.response_hours, resolve_hours=window.resolve_hours,
        photos=len(data.get("photos", [])),
    )


async def submit(ctx: Ctx, data: dict[str, Any]) -> None:
    assert ctx.person is not None
    draft = Draft(
        description=data["description"], impact=data["impact"], priority=data["priority"],
        category=data.get("category") or faults.guess_category(data["description"]),
        kb_shown=list(data.get("articles", [])), photos=list(data.get("photos", [])),
        location=data.get("location"),
    )
    ctx.set_state(State.IDLE)
    ticket = await open_ticket(ctx, ctx.person, draft)
    await selfservice.link_ticket(ctx, data, ticket)


async def keep_photo(ctx: Ctx, photo: dict[str, Any]) -> bool:
    """Keep a photo with the open report; False when the report already holds the maximum."""
    assert ctx.conv is not None
    photos = list(ctx.conv.data.get("photos", []))
    if len(photos) >= MAX_PHOTOS:
        return False
    ctx.update_data(photos=[*photos, photo])
    return True
