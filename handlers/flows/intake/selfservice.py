"""Self-service: knowledge-base articles offered before a ticket, and what became of them."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.context import Ctx, Rows
from storage.models import SelfServiceAttempt, SelfServiceOutcome, Ticket

MAX_ARTICLES = 3
MAX_STEPS_CHARS = 600  # per article: people read this on a phone


@dataclass(frozen=True)
class Offered:
    articles: list[str]
    attempt: int | None
    category: str


async def offer(ctx: Ctx, description: str, rows: Rows) -> Offered | None:
    """Show the articles that answer this description; None when none is confident."""
    if ctx.kb is None or ctx.person is None:
        return None
    hits = ctx.kb.search(description, limit=MAX_ARTICLES, lang=ctx.lang)
    if not hits:
        return None
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
    await ctx.reply_text("\n\n".join(parts), rows)
    return Offered(ids, attempt.id, hits[0].article.category)


async def record(ctx: Ctx, attempt_id: int | None, *, solved: bool) -> None:
    attempt = await _attempt(ctx, attempt_id)
    if attempt is None:
        return
    outcome = SelfServiceOutcome.SOLVED if solved else SelfServiceOutcome.NOT_SOLVED
    attempt.outcome = str(outcome)
    ctx.tx.add(attempt)


async def link_ticket(ctx: Ctx, attempt_id: int | None, ticket: Ticket) -> None:
    attempt = await _attempt(ctx, attempt_id)
    if attempt is not None:
        attempt.ticket_id = ticket.id
        ctx.tx.add(attempt)


async def _attempt(ctx: Ctx, attempt_id: int | None) -> SelfServiceAttempt | None:
    return await ctx.tx.get(SelfServiceAttempt, attempt_id) if attempt_id else None
