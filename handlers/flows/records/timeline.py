"""A ticket's history in the words a service manager reads: one line per step that happened
("11月23日 09:30 张工：出发"), not the status machine's moves ("状态 → 处理中" twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from handlers.core.context import Ctx
from handlers.flows.jobs.status import STATUS_EVENT
from handlers.flows.records.ticket_files import LOCATION_EVENT, utc
from storage.models import Progress, TicketEvent, TicketStatus

NOTE_EVENT = "note"  # the reporter's words on an open job (handlers/flows/reporter.py)
# moves another event of the same step already tells: acceptance ("接单"), and work going on
# after the reporter answered (their note)
TOLD_ELSEWHERE = {TicketStatus.ACKNOWLEDGED}
PROGRESS = frozenset(p.value for p in Progress)


def steps(ctx: Ctx, lang: str, events: Sequence[TicketEvent],
          names: dict[int | None, str]) -> tuple[str, ...]:
    out = []
    for e in events:
        what = _what(ctx, lang, e, names)
        if what:
            who = names.get(e.actor_id) or ctx.t("event.bot", lang)
            out.append(ctx.t("report.full.step", lang, time=ctx.texts.time(lang, utc(e.at)),
                             who=who, what=what))
    return tuple(out)


def first_on_site(events: Sequence[TicketEvent]) -> datetime | None:
    """When the engineer said they were on site (the first time)."""
    return next((utc(e.at) for e in events if e.kind == STATUS_EVENT
                 and e.details.get("progress") == Progress.ON_SITE), None)


def _what(ctx: Ctx, lang: str, e: TicketEvent, names: dict[int | None, str]) -> str:
    d = e.details or {}
    if e.kind == STATUS_EVENT:
        return _move(ctx, lang, d, names)
    if e.kind == NOTE_EVENT:
        return ctx.t("report.step.note", lang, text=" ".join(str(d.get("text", "")).split()))
    if e.kind == LOCATION_EVENT and "lat" in d and "lon" in d:
        return ctx.t("report.step.location", lang, coordinates=f"{d['lat']}, {d['lon']}")
    key = f"event.{e.kind}"
    return ctx.t(key, lang) if ctx.texts.has(key) else e.kind


def _move(ctx: Ctx, lang: str, d: dict[str, object], names: dict[int | None, str]) -> str:
    to = str(d.get("to", ""))
    if to in TOLD_ELSEWHERE or (to == TicketStatus.IN_PROGRESS and d.get("answered")):
        return ""
    if to == TicketStatus.PAGED:
        engineer = d.get("engineer_id")
        return ctx.t("report.step.paged", lang,
                     name=names.get(engineer if isinstance(engineer, int) else None) or "-")
    if to == TicketStatus.IN_PROGRESS:
        progress = str(d.get("progress", ""))
        return ctx.t(f"report.step.{progress}" if progress in PROGRESS else "report.step.resumed",
                     lang)
    if to == TicketStatus.WAITING_FOR_REPORTER:
        return ctx.t("report.step.asked", lang,
                     question=" ".join(str(d.get("question", "")).split()))
    if to == TicketStatus.REOPENED:
        return ctx.t("report.step.recurred" if d.get("recurrence") else "report.step.reopened",
                     lang)
    if ctx.texts.has(f"report.step.{to}"):
        return ctx.t(f"report.step.{to}", lang)
    return f"{ctx.t('event.status', lang)} → {ctx.t(f'status.{to}', lang)}"
