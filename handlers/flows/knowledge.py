"""Knowledge capture: a fault no article covered becomes a draft; a manager decides in chat.

Approved drafts are searchable at once (added to the live index), survive restarts (loaded
from the database at start) and `frontline kb export DIR` writes them as article files.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from handlers.core import tokens
from handlers.core.context import IDLE, Ctx, Searcher
from handlers.core.errors import NotAllowed, StaleAction
from handlers.core.router import Router
from handlers.core.texts import lazy
from handlers.flows.jobs.summary import MANAGERS
from kb import Article
from storage import people
from storage.models import DraftState, KbDraft, Person, Role, Ticket
from storage.uow import Tx

router = Router("knowledge")
MAX_LISTED = 10
SCOPE = "d"  # buttons on a draft: d:<draft id>:<action>


class Action(StrEnum):
    SAVE = "draft"  # on the ticket the engineer just resolved
    APPROVE = "ok"  # searchable for staff; not offered to reporters
    APPROVE_FOR_REPORTERS = "safe"  # … and offered to reporters as self-service steps
    REJECT = "no"
    EDIT = "edit"


CASE_TAG = "case"  # every article made from a draft
REPORTER_SAFE_TAG = "reporter-safe"  # … that a reporter may follow alone


class State(StrEnum):
    EDITING = "mgr_draft_edit"  # a manager typing new steps for a draft


@dataclass
class Editing:
    draft: int = 0


router.cancellable(State, "command.cancel_resolving")


def to_article(draft: KbDraft) -> Article:
    tags = (CASE_TAG, REPORTER_SAFE_TAG) if draft.reporter_safe else (CASE_TAG,)
    return Article(id=draft.article_id, title=draft.title, lang=draft.lang,
                   category=draft.category, devices=(), symptoms=tuple(draft.symptoms),
                   tags=tags, body=draft.body, path=None)


def for_reporters(article: Any) -> bool:
    """Whether self-service may offer this article to a reporter: every shipped article, and
    the case articles a manager approved as reporter-safe."""
    tags = tuple(getattr(article, "tags", ()) or ())
    return CASE_TAG not in tags or REPORTER_SAFE_TAG in tags


async def offer(ctx: Ctx, ticket: Ticket) -> None:
    """After a resolution no article covered: offer to keep the case for the next reporter."""
    if ticket.kb_shown:
        return
    rows = [[("button.save_draft", tokens.ticket(ticket.id, Action.SAVE))]]
    await ctx.reply("drafts.offer", rows)


def _assignee(ctx: Ctx, ticket: Ticket) -> None:
    if ctx.person is None or ctx.person.id != ticket.assignee_id:
        raise NotAllowed()


@router.ticket_button(Action.SAVE, guards=[_assignee])
async def create(ctx: Ctx, ticket: Ticket, arg: str) -> None:
    me = ctx.person
    assert me is not None
    article_id = f"case-{ticket.id}"
    if await ctx.tx.scalars(_by_article(article_id)):
        raise StaleAction("drafts.exists")
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    draft = KbDraft(
        ticket_id=ticket.id, author_id=me.id, article_id=article_id,
        title=ticket.description.splitlines()[0][:60],
        lang=reporter.language if reporter else "zh",
        category=ticket.category, symptoms=[ticket.description[:200]],
        body=_steps(ticket), created_at=ctx.now,
    )
    ctx.tx.add(draft)
    await ctx.tx.flush()
    await ctx.reply("drafts.saved", title=draft.title)
    for manager in await people.people_with_roles(ctx.tx, (Role.MANAGER,)):
        await ctx.notify(manager, "drafts.new", title=draft.title, name=me.name)


def _steps(ticket: Ticket) -> str:
    parts = [p for p in (ticket.cause, ticket.fix, ticket.prevention) if p]
    return "\n".join(f"{i}. {p}" for i, p in enumerate(parts, start=1))


def _by_article(article_id: str) -> Any:
    return select(KbDraft).where(col(KbDraft.article_id) == article_id)


@router.command("drafts", roles=MANAGERS)
async def list_pending(ctx: Ctx, arg: str) -> None:
    pending = await ctx.tx.scalars(
        select(KbDraft).where(col(KbDraft.state) == str(DraftState.PENDING))
        .order_by(col(KbDraft.id))
    )
    if not pending:
        await ctx.reply("drafts.none")
        return
    for draft in pending[:MAX_LISTED]:
        await _show(ctx, draft)


async def _show(ctx: Ctx, draft: KbDraft) -> None:
    def d(action: Action) -> str:
        return tokens.encode(SCOPE, draft.id or 0, action)

    rows = [[("button.approve_for_reporters", d(Action.APPROVE_FOR_REPORTERS))],
            [("button.approve", d(Action.APPROVE)), ("button.edit", d(Action.EDIT)),
             ("button.reject", d(Action.REJECT))]]
    await ctx.reply("drafts.item", rows, title=draft.title, body=draft.body,
                    category=lazy(f"category.{draft.category}"))


async def _pending(ctx: Ctx, draft_id: int) -> KbDraft:
    draft = await ctx.tx.get(KbDraft, draft_id)
    if draft is None:
        raise StaleAction("drafts.gone")
    if draft.state != DraftState.PENDING:
        raise StaleAction("drafts.decided", title=draft.title)
    return draft


@router.record_button(SCOPE, Action.EDIT, roles=MANAGERS)
async def edit(ctx: Ctx, draft_id: int, arg: str) -> None:
    draft = await _pending(ctx, draft_id)
    ctx.set_state(State.EDITING, Editing(draft=draft.id or 0))
    await ctx.reply("drafts.ask_edit", title=draft.title, body=draft.body)


@router.record_button(SCOPE, Action.APPROVE, roles=MANAGERS)
async def approve(ctx: Ctx, draft_id: int, arg: str) -> None:
    await decide(ctx, await _pending(ctx, draft_id), approve=True)


@router.record_button(SCOPE, Action.APPROVE_FOR_REPORTERS, roles=MANAGERS)
async def approve_for_reporters(ctx: Ctx, draft_id: int, arg: str) -> None:
    draft = await _pending(ctx, draft_id)
    draft.reporter_safe = True
    await decide(ctx, draft, approve=True)


@router.record_button(SCOPE, Action.REJECT, roles=MANAGERS)
async def reject(ctx: Ctx, draft_id: int, arg: str) -> None:
    await decide(ctx, await _pending(ctx, draft_id), approve=False)


async def decide(ctx: Ctx, draft: KbDraft, *, approve: bool) -> None:
    draft.state = str(DraftState.APPROVED if approve else DraftState.REJECTED)
    draft.decided_at = ctx.now
    draft.decided_by = ctx.person.id if ctx.person else None
    ctx.tx.add(draft)
    if approve and ctx.kb is not None:
        ctx.kb.add(to_article(draft))  # searchable at once
    key = "drafts.rejected" if not approve else \
        "drafts.approved_for_reporters" if draft.reporter_safe else "drafts.approved"
    await ctx.reply(key, title=draft.title)


@router.text(State.EDITING)
async def edit_text(ctx: Ctx, text: str) -> None:
    draft = await ctx.tx.get(KbDraft, ctx.data(Editing).draft)
    ctx.set_state(IDLE)
    if draft is None or draft.state != DraftState.PENDING:
        raise StaleAction("drafts.gone")
    draft.body = text.strip()[:4000]
    ctx.tx.add(draft)
    await _show(ctx, draft)


async def load_approved(tx: Tx, kb: Searcher) -> int:
    """Put every approved draft into a freshly loaded knowledge base (at start)."""
    rows = await tx.scalars(
        select(KbDraft).where(col(KbDraft.state) == str(DraftState.APPROVED))
    )
    for draft in rows:
        if kb.get(draft.article_id) is None:
            kb.add(to_article(draft))
    return len(rows)

