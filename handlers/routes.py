"""Where a known person's text or button press goes, by conversation state and token."""

from __future__ import annotations

from handlers import buttons, commands, engineer, intake, reporter
from handlers.context import Ctx
from handlers.errors import BadButton
from handlers.states import INTAKE_STATES, REGISTRATION_STATES, State
from storage import tickets

TICKET_ACTIONS = {
    "ack": engineer.accept,
    "decline": engineer.decline,
    "done": engineer.start_resolving,
    "ok": reporter.confirm_fixed,
    "notok": reporter.not_fixed,
}


async def text(ctx: Ctx, words: str) -> None:
    state = ctx.state
    if words.strip().lower() in commands.STATUS_WORDS:
        await commands.status(ctx)
    elif state in INTAKE_STATES:
        await intake.add_text(ctx, words)
    elif state in (State.ENG_CAUSE, State.ENG_FIX):
        await engineer.note(ctx, words)
    elif state is State.ENG_FAULT_TYPE:
        await ctx.reply("engineer.pick_fault_type")
    elif state in REGISTRATION_STATES:  # registered meanwhile (e.g. by an admin)
        ctx.set_state(State.IDLE)
        await intake.start(ctx, words)
    else:
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
    else:
        await TICKET_ACTIONS[action](ctx, ticket)

