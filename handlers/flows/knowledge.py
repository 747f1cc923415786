"""Knowledge capture: a fault no article covered becomes a draft; a manager decides in chat.

Approved drafts are searchable at once (added to the live index), survive restarts (loaded
from the database at start) and `frontline kb export DIR` writes them as article files.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col

from handlers import buttons
from handlers.context import Ctx
from handlers.errors import NotAllowed, StaleAction
from handlers.states import State
from handlers.texts import lazy
from storage import people
from storage.models import DraftState, KbDraft, Person, Role, Ticket
from storage.uow import Tx

MAX_LISTED = 10
MANAGERS = (Role.MANAGER, Role.ADMIN)


def to_article(draft: KbDraft) -> Any:
    from kb import Article

    return Article(id=draft.article_id, title=draft.title, lang=draft.lang,
                   category=draft.category, devices=(), symptoms=tuple(draft.symptoms),
                   tags=("case",), body=draft.body, path=None)


async def offer(ctx: Ctx, ticket: Ticket) -> None:
    """After a resolution no article covered: offer to keep the case for the next reporter."""
    if ticket.kb_shown:
        return
    rows = [[("button.save_draft", buttons.ticket(ticket.id or 0, "draft"))]]
    await ctx.reply("drafts.offer", rows)


async def create(ctx: Ctx, ticket: Ticket) -> None:
    me = ctx.person
    if me is None or me.id != ticket.assignee_id:
        raise NotAllowed()
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
    from sqlalchemy import select

    return select(KbDraft).where(col(KbDraft.article_id) == article_id)


async def list_pending(ctx: Ctx) -> None:
    _manager(ctx)
    from sqlalchemy import select

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
    d = f"d:{draft.id}:"
    rows = [[("button.approve", d + "ok"), ("button.edit", d + "edit"),
             ("button.reject", d + "no")]]
    await ctx.reply("drafts.item", rows, title=draft.title, body=draft.body,
                    category=lazy(f"category.{draft.category}"))


async def on_button(ctx: Ctx, token: buttons.Token) -> None:
    _manager(ctx)
    draft = await ctx.tx.get(KbDraft, int(token.ref))
    if draft is None:
        raise StaleAction("drafts.gone")
    if draft.state != DraftState.PENDING:
        raise StaleAction("drafts.decided", title=draft.title)
    if token.action == "edit":
        ctx.set_state(State.MGR_DRAFT_EDIT, draft=draft.id)
        await ctx.reply("drafts.ask_edit", title=draft.title, body=draft.body)
        return
    await decide(ctx, draft, approve=token.action == "ok")


async def decide(ctx: Ctx, draft: KbDraft, *, approve: bool) -> None:
    draft.state = str(DraftState.APPROVED if approve else DraftState.REJECTED)
    draft.decided_at = ctx.now
    draft.decided_by = ctx.person.id if ctx.person else None
    ctx.tx.add(draft)
    if approve and ctx.kb is not None:
        ctx.kb.add(to_article(draft))  # searchable at once
    await ctx.reply("drafts.approved" if approve else "drafts.rejected", title=draft.title)


async def edit_text(ctx: Ctx, text: str) -> None:
    assert ctx.conv is not None
    draft = await ctx.tx.get(KbDraft, int(ctx.conv.data.get("draft", 0)))
    ctx.set_state(State.IDLE)
    if draft is None or draft.state != DraftState.PENDING:
        raise StaleAction("drafts.gone")
    draft.body = text.strip()[:4000]
    ctx.tx.add(draft)
    await _show(ctx, draft)


async def load_approved(tx: Tx, kb: Any) -> int:
    """Put every approved draft into a freshly loaded knowledge base (at start)."""
    from sqlalchemy import select

    rows = await tx.scalars(
        select(KbDraft).where(col(KbDraft.state) == str(DraftState.APPROVED))
    )
    for draft in rows:
        if kb.get(draft.article_id) is None:
            kb.add(to_article(draft))
    return len(rows)


def _manager(ctx: Ctx) -> Person:
    if ctx.person is None or ctx.person.role not in MANAGERS:
        raise NotAllowed()
    return ctx.person
