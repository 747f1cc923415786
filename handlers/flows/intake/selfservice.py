"""Self-service: knowledge-base articles offered before a ticket, and what became of them.

Each article is a short card (its first steps) with its own 已解决 and 看全文 buttons, so the
article that solved the problem is the one credited; one 没解决，报修 serves them all. A report
that cannot wait (P1) gets its ticket first; the articles follow, without buttons, as
something to try while the engineer is on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers.core.context import Ctx, HitView, Rows
from handlers.core.texts import Lazy, lazy
from handlers.flows import knowledge
from handlers.flows.intake import cards
from storage.models import Role, SelfServiceAttempt, SelfServiceOutcome, Ticket

MAX_ARTICLES = 3
MARKS = ("①", "②", "③")


@dataclass(frozen=True)
class Offered:
    articles: list[str]
    attempt: int | None
    category: str


@dataclass(frozen=True)
class Buttons:
    """How the flow names its buttons: solved(i), read(i) for article i (1-based), report."""

    solved: Any
    read: Any
    report: str


def rows(b: Buttons, count: int) -> Rows:
    if count == 1:
        return [[("button.kb_solved", b.solved(1)), ("button.kb_read", b.read(1))],
                [("button.kb_report", b.report)]]
    per_article: list[list[tuple[str | Lazy, str]]] = [
        [(lazy("button.kb_solved_n", mark=MARKS[i - 1]), b.solved(i)),
         (lazy("button.kb_read_n", mark=MARKS[i - 1]), b.read(i))] for i in range(1, count + 1)
    ]
    return [*per_article, [("button.kb_report", b.report)]]


def matching(ctx: Ctx, description: str) -> list[HitView]:
    """The articles (at most three) that confidently answer this description, for this
    person: reporters see only the articles written for them."""
    if ctx.kb is None or ctx.person is None:
        return []
    found = ctx.kb.search(description, limit=2 * MAX_ARTICLES, lang=ctx.lang)
    staff = ctx.person.role != Role.REPORTER
    return [h for h in found if staff or knowledge.for_reporters(h.article)][:MAX_ARTICLES]


async def offer(ctx: Ctx, description: str, b: Buttons) -> Offered | None:
    """Show the articles that answer this description as cards; None when none is confident."""
    hits = matching(ctx, description)
    if not hits or ctx.person is None:
        return None
    ids = [h.article.id for h in hits]
    attempt = SelfServiceAttempt(person_id=ctx.person.id or 0, query=description,
                                 article_ids=ids, at=ctx.now)
    ctx.tx.add(attempt)
    await ctx.tx.flush()
    parts = [ctx.t("selfservice.intro")]
    for i, hit in enumerate(hits):
        mark = MARKS[i] if len(hits) > 1 else ""
        parts.append(ctx.t("selfservice.card", mark=mark, title=hit.article.title,
                           steps=cards.card(hit.article.body)))
    parts.append(ctx.t("selfservice.question"))
    await ctx.reply_text("\n\n".join(parts), rows(b, len(hits)))
    return Offered(ids, attempt.id, hits[0].article.category)


async def while_you_wait(ctx: Ctx, hits: list[HitView]) -> None:
    """After a ticket opened at once (P1), the matching articles as one short message with no
    buttons: nothing here can be taken for "solved" and cancel the job."""
    if not hits:
        return
    parts = [ctx.t("selfservice.wait.intro")]
    for i, hit in enumerate(hits):
        parts.append(ctx.t("selfservice.card", mark=MARKS[i] if len(hits) > 1 else "",
                           title=hit.article.title, steps=cards.card(hit.article.body)))
    parts.append(ctx.t("selfservice.wait.outro"))
    await ctx.reply_text("\n\n".join(parts))


async def read(ctx: Ctx, article_id: str, *, solved: str, report: str) -> None:
    """The whole article, with its own 已解决 and the shared 没解决，报修."""
    article = ctx.kb.get(article_id) if ctx.kb is not None else None
    if article is None:
        await ctx.reply("selfservice.gone")
        return
    await ctx.reply("selfservice.full", [[("button.kb_solved", solved),
                                          ("button.kb_report", report)]],
                    title=article.title, text=cards.full(article.body))


async def record(ctx: Ctx, attempt_id: int | None, *, solved_by: str | None) -> None:
    """What became of the offer: solved by this article (or, from a button sent before
    articles had their own, by one of them: ""), or not solved (None)."""
    attempt = await _attempt(ctx, attempt_id)
    if attempt is None:
        return
    outcome = SelfServiceOutcome.NOT_SOLVED if solved_by is None else SelfServiceOutcome.SOLVED
    attempt.outcome = str(outcome)
    attempt.solved_article = solved_by or ""
    ctx.tx.add(attempt)


async def link_ticket(ctx: Ctx, attempt_id: int | None, ticket: Ticket) -> None:
    attempt = await _attempt(ctx, attempt_id)
    if attempt is not None:
        attempt.ticket_id = ticket.id
        ctx.tx.add(attempt)


async def _attempt(ctx: Ctx, attempt_id: int | None) -> SelfServiceAttempt | None:
    return await ctx.tx.get(SelfServiceAttempt, attempt_id) if attempt_id else None
