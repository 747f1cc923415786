"""Self-service: knowledge-base articles offered before a ticket, and what became of them."""

from __future__ import annotations

from typing import Any

from handlers import buttons
from handlers.context import Ctx, Rows
from storage.models import SelfServiceAttempt, SelfServiceOutcome, Ticket

MAX_ARTICLES = 3
MAX_STEPS_CHARS = 600  # per article: people read this on a phone


def feedback_rows(nonce: str) -> Rows:
    return [[("button.kb_solved", buttons.intake(nonce, "kb_ok")),
             ("button.kb_report", buttons.intake(nonce, "kb_no"))]]


async def offer(ctx: Ctx, description: str, nonce: str) -> dict[str, Any]:
    """Show the articles that answer this description; {} when none is confident."""
    if ctx.kb is None or ctx.person is None:
        return {}
    hits = ctx.kb.search(description, limit=MAX_ARTICLES, lang=ctx.lang)
    if not hits:
        return {}
    ids = [h.article.id for h in hits]
    attempt = SelfServiceAttempt(person_id=ctx.person.id or 0, query=description,
                                 article_ids=ids, at=ctx.now)
    ctx.tx.add(attempt)
    await ctx.tx.flush()
    parts = [ctx.t("selfservice.intro")]
    for i, hit in enumerate(hits, start=1):
        body = hit.article.body.strip()
        if len(body) > MAX_STEPS_CHARS:
            body = body[:MAX_STEPS_CHARS].rstrip() + " …"
        parts.append(ctx.t("selfservice.article", index=i, title=hit.article.title, steps=body))
    parts.append(ctx.t("selfservice.question"))
    await ctx.reply_text("\n\n".join(parts), feedback_rows(nonce))
    return {"articles": ids, "attempt": attempt.id,
            "category": hits[0].article.category}


async def record(ctx: Ctx, data: dict[str, Any], *, solved: bool) -> None:
    attempt = await _attempt(ctx, data)
    if attempt is None:
        return
    outcome = SelfServiceOutcome.SOLVED if solved else SelfServiceOutcome.NOT_SOLVED
    attempt.outcome = str(outcome)
    ctx.tx.add(attempt)


async def link_ticket(ctx: Ctx, data: dict[str, Any], ticket: Ticket) -> None:
    attempt = await _attempt(ctx, data)
    if attempt is not None:
        attempt.ticket_id = ticket.id
        ctx.tx.add(attempt)


async def _attempt(ctx: Ctx, data: dict[str, Any]) -> SelfServiceAttempt | None:
    ident = data.get("attempt")
    return await ctx.tx.get(SelfServiceAttempt, ident) if isinstance(ident, int) else None
