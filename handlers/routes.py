"""Where a known person's text or button press goes, by conversation state and token."""

from __future__ import annotations

from handlers import (
    buttons,
    commands,
    complaints,
    drafts,
    engineer,
    escalation,
    followup,
    intake,
    logctx,
    reporter,
)
from handlers.context import Ctx
from handlers.errors import BadButton, StaleAction
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
    "fu_ok": followup.no_recurrence,
    "fu_again": followup.recurred,
    "draft": drafts.create,
}

TEXT_STATES = {
    State.ENG_CAUSE: engineer.note,
    State.ENG_FIX: engineer.note,
    State.ENG_PREVENTION: engineer.note,
    State.ENG_QUESTION: engineer.send_question,
    State.MGR_DRAFT_EDIT: drafts.edit_text,
    State.COMPLAINT_TEXT: complaints.submit,
    State.MGR_COMPLAINT: complaints.resolve_text,
}


async def text(ctx: Ctx, words: str) -> None:
    state, plain = ctx.state, words.strip().lower()
    if plain in commands.STATUS_WORDS:
        await commands.status(ctx)
    elif plain in reporter.URGE_WORDS:
        await reporter.urge_latest(ctx)
    elif plain in complaints.WORDS:
        await complaints.start(ctx)
    elif state in INTAKE_STATES:
        await intake.add_text(ctx, words)
    elif state in TEXT_STATES:
        await TEXT_STATES[state](ctx, words)
    elif state is State.COMPLAINT_ABOUT:  # wrote it straight away: about the service
        await complaints.about(ctx, 0)
        await complaints.submit(ctx, words)
    elif state is State.ENG_FAULT_TYPE:
        await ctx.reply("engineer.pick_fault_type")
    else:
        if state in REGISTRATION_STATES:  # registered meanwhile (e.g. by an admin)
            ctx.set_state(State.IDLE)
        await _idle_text(ctx, words)


async def _idle_text(ctx: Ctx, words: str) -> None:
    waiting = await followup.awaiting_comment(ctx)
    if waiting is not None:
        await followup.comment(ctx, waiting, words)
        return
    is_reporter = ctx.person is not None and ctx.person.role == Role.REPORTER
    if is_reporter and await reporter.text_while_tickets_open(ctx, words):
        return
    await intake.start(ctx, words)


async def button(ctx: Ctx, data: str) -> None:
    token = buttons.parse(data)
    if token.kind == "i":
        await _dialogue_button(ctx, token)
        return
    if token.kind in ("d", "k"):
        await (drafts.on_button if token.kind == "d" else complaints.on_button)(ctx, token)
        return
    ticket = await tickets.get(ctx.tx, token.ticket_id, lock=True)
    if ticket is None:
        raise BadButton()
    logctx.ticket(ticket.id)
    action = token.action
    if action in ("remote", "way", "site"):
        await engineer.progress(ctx, ticket, action)
    elif action.startswith("ft"):
        await engineer.choose_fault_type(ctx, ticket, action)
    elif action in ("s1", "s2", "s3", "s4", "s5"):
        await followup.score(ctx, ticket, int(action[1]))
    elif action == "skip":
        await followup.comment(ctx, ticket, None)
    elif action in ("p1", "p2", "p3", "p4"):
        await engineer.change_priority(ctx, ticket, action.upper())
    elif action.startswith("c_"):
        await engineer.change_category(ctx, ticket, action.removeprefix("c_"))
    else:
        await TICKET_ACTIONS[action](ctx, ticket)


async def _dialogue_button(ctx: Ctx, token: buttons.Token) -> None:
    """A choice inside a report, or inside a complaint being started."""
    if ctx.state is State.COMPLAINT_ABOUT:
        if ctx.conv is None or ctx.conv.data.get("n") != token.ref \
                or not token.action.startswith("cmp_"):
            raise StaleAction("error.stale_report")
        await complaints.about(ctx, int(token.action.removeprefix("cmp_")))
        return
    await intake.on_button(ctx, token)
