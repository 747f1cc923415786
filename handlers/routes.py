"""Where a known person's text or button press goes, by conversation state and token."""

from __future__ import annotations

from handlers import buttons, commands, engineer, escalation, intake, reporter
from handlers.context import Ctx
from handlers.errors import BadButton
from handlers.states import INTAKE_STATES, REGISTRATION_STATES, State
from storage import tickets
from storage.models import Role

TICKET_ACTIONS = {
    "ack": engineer.accept,
    "decline": engineer.decline,
    "done": engineer.start_resolving,
    "wait": engineer.ask_reporter,
    "expert": engineer.call_expert,
    "prio": engineer.offer_priorities,
    "cat": engineer.offer_categories,
    "take": escalation.take_over,
    "ok": reporter.confirm_fixed,
    "notok": reporter.not_fixed,
    "urge": reporter.urge,
}


async def text(ctx: Ctx, words: str) -> None:
    state, plain = ctx.state, words.strip().lower()
    if plain in commands.STATUS_WORDS:
        await commands.status(ctx)
    elif plain in reporter.URGE_WORDS:
        await reporter.urge_latest(ctx)
    elif state in INTAKE_STATES:
        await intake.add_text(ctx, words)
    elif state in (State.ENG_CAUSE, State.ENG_FIX):
        await engineer.note(ctx, words)
    elif state is State.ENG_QUESTION:
        await engineer.send_question(ctx, words)
    elif state is State.ENG_FAULT_TYPE:
        await ctx.reply("engineer.pick_fault_type")
    else:
        if state in REGISTRATION_STATES:  # registered meanwhile (e.g. by an admin)
            ctx.set_state(State.IDLE)
        await _idle_text(ctx, words)


async def _idle_text(ctx: Ctx, words: str) -> None:
    is_reporter = ctx.person is not None and ctx.person.role == Role.REPORTER
    if is_reporter and await reporter.text_while_tickets_open(ctx, words):
        return
    await intake.start(ctx, words)


async def button(ctx: Ctx, data: str) -> None:
    token = buttons.parse(data)
    if token.kind == "i":
        await intake.on_button(ctx, token)
        return
    ticket = await tickets.get(ctx.tx, token.ticket_id, lock=True)
    if ticket is None:
        raise BadButton()
    action = token.action
    if action in ("remote", "way", "site"):
        await engineer.progress(ctx, ticket, action)
    elif action.startswith("ft"):
        await engineer.choose_fault_type(ctx, ticket, action)
    elif action in ("p1", "p2", "p3", "p4"):
        await engineer.change_priority(ctx, ticket, action.upper())
    elif action.startswith("c_"):
        await engineer.change_category(ctx, ticket, action.removeprefix("c_"))
    else:
        await TICKET_ACTIONS[action](ctx, ticket)
