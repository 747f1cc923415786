"""The record read back: the fault report's 远程操作 section and its lines."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.core.context import Ctx
from handlers.core.texts import lazy
from handlers.flows.consent.base import (
    requests,
)
from handlers.flows.records.report_doc import Section
from storage.models import TicketEvent

# ── the record: the fault report, the timeline ─────────────────────────────────────────────

def record_lines(ctx: Ctx, lang: str, events: Sequence[TicketEvent],
                 names: dict[int | None, str]) -> tuple[str, ...]:
    """"张工 申请「重启网关」，李明 于 12月01日 10:05 同意" — one line per request."""
    lines = []
    for r in requests(events):
        asked = {"engineer": names.get(r.engineer_id) or "-", "plan": r.plan,
                 "asked": r.asked_at}
        if r.by_phone and r.answered_at is not None:
            lines.append(ctx.t("consent.record.by_phone", lang, **asked, who=r.by_phone,
                               when=r.answered_at,
                               recorder=names.get(r.answered_by) or "-"))
        elif r.answer and r.answered_at is not None:
            lines.append(ctx.t("consent.record.answered", lang, **asked,
                               reporter=names.get(r.answered_by) or "-", when=r.answered_at,
                               answer=lazy(f"consent.answer.{r.answer}")))
        else:
            lines.append(ctx.t("consent.record.open", lang, **asked))
    return tuple(lines)


def report_sections(ctx: Ctx, lang: str, events: Sequence[TicketEvent],
                    names: dict[int | None, str]) -> tuple[Section, ...]:
    """The fault report's 远程操作 section; none when nobody asked."""
    lines = record_lines(ctx, lang, events, names)
    return (Section(ctx.t("consent.record.heading", lang), lines),) if lines else ()
