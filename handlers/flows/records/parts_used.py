"""The parts a job used (更换备件) as people read them: one line per part, in the reader's
language, for the fault report and the engineer's confirmation."""

from __future__ import annotations

from handlers.core.context import Ctx
from handlers.flows.records.report_doc import Section
from storage import parts
from storage.models import Ticket


def lines(ctx: Ctx, lang: str, used: list[parts.Used]) -> tuple[str, ...]:
    return tuple(ctx.t("parts.line", lang, part=u.label(lang), quantity=u.quantity,
                       unit=unit(ctx, lang, u.unit), code=u.code)
                 for u in used)


def unit(ctx: Ctx, lang: str, code: str) -> str:
    """A unit's word in the reader's language (a code the catalog lacks as it is)."""
    key = f"parts.unit.{code}"
    return ctx.t(key, lang) if ctx.texts.has(key) else code


async def of_ticket(ctx: Ctx, ticket: Ticket) -> list[parts.Used]:
    return parts.totals(await parts.of_ticket(ctx.tx, ticket.id or 0))


async def section(ctx: Ctx, lang: str, ticket: Ticket) -> Section:
    """The fault report's 更换备件: the parts, or "none"."""
    found = lines(ctx, lang, await of_ticket(ctx, ticket))
    return Section(ctx.t("parts.report_heading", lang),
                   found or (ctx.t("parts.none_used", lang),))
