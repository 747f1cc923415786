"""The fault report (故障处理报告): type, cause, handling, timeline with each SLA met or
missed, attachments and advice — produced when a job is resolved, due within 12 h by the
service plan.

- The reporter gets a short plain summary folded into "问题解决了吗？" (`tell_reporter`), so
  the confirm buttons are the last thing on their screen.
- The service managers get the full report in chat and as a PDF file; the PDF is kept in the
  file store and the `report_sent` event names it (the archive) (`send`).
- `markdown` is the same report for `frontline tickets report`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from handlers.core.context import Ctx, Rows
from handlers.core.messages import FileRef
from handlers.core.texts import Lazy, lazy
from handlers.flows import consent
from handlers.flows.jobs.summary import number, priority_label
from handlers.flows.records import parts_used, report_doc, report_pdf, ticket_files, timeline
from handlers.flows.records.report_doc import Report, Section
from storage import people, tickets
from storage.models import Person, Ticket, TicketEvent

log = logging.getLogger(__name__)
CHAT_LIMIT = 3500  # characters of the report in one chat message (Telegram takes 4096)
SUMMARY_CHARS = 200  # the cause and the fix as the reporter reads them


class Event(StrEnum):
    REPORT_SENT = "report_sent"


async def tell_reporter(ctx: Ctx, ticket: Ticket, engineer: Person, rows: Rows) -> None:
    """What was wrong, what was done, by whom and when — then the question with its buttons."""
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter is None:
        return
    await ctx.notify(reporter, "reporter.resolved", rows, number=number(ticket),
                     fault_type=_fault_type(ticket), cause=_short(ticket.cause),
                     fix=_short(ticket.fix), name=engineer.name,
                     when=ticket.resolved_at or ctx.now)


async def send(ctx: Ctx, ticket: Ticket) -> None:
    """The full report to each service manager of the ticket's site, in their language, with
    its PDF; the PDF is made (and kept) even when no manager is registered."""
    managers = await people.managers_for(ctx.tx, ticket.site)
    langs = sorted({ctx.texts.default, *(ctx.texts.lang(m.language) for m in managers)})
    docs = {lang: await build(ctx, ticket, lang) for lang in langs}
    pdfs = {lang: await _pdf(ctx, ticket, docs[lang], lang) for lang in langs}
    for manager in managers:
        lang = ctx.texts.lang(manager.language)
        pdf = pdfs[lang]
        text = report_doc.fit(report_doc.plain(docs[lang]), CHAT_LIMIT,
                              ctx.t("report.full.cut", lang))
        await ctx.notify(manager, "report.full.message", files=(pdf,) if pdf else (),
                         report=text, pdf=lazy("report.full.pdf_note", name=pdf.name)
                         if pdf else "")
    kept = [{"lang": lang, "key": f.key, "name": f.name, "size": f.size}
            for lang, f in pdfs.items() if f is not None]
    await tickets.add_event(ctx.tx, ticket, Event.REPORT_SENT, ctx.now, files=kept)


async def markdown(ctx: Ctx, ticket: Ticket, lang: str) -> str:
    """The whole report as Markdown; what people wrote shows as written, never as markup."""
    return report_doc.markdown(await build(ctx, ticket, lang))


async def build(ctx: Ctx, ticket: Ticket, lang: str) -> Report:
    names: dict[int | None, str] = {p.id: p.name for p in await people.people(ctx.tx)}
    events = await tickets.events(ctx.tx, ticket.id or 0)
    return Report(
        title=ctx.t("report.full.title", lang, number=number(ticket)),
        note=ctx.t("report.full.times", lang, zone=ctx.config.timezone),
        sections=(
            _facts(ctx, lang, ticket, names),
            *(Section(ctx.t(f"report.full.{part}", lang), text=getattr(ticket, part) or "-")
              for part in ("description", "cause", "fix", "prevention")),
            *consent.report_sections(ctx, lang, events, names),
            await parts_used.section(ctx, lang, ticket),
            _deadlines(ctx, lang, ticket, events),
            Section(ctx.t("report.full.timeline", lang),
                    timeline.steps(ctx, lang, events, names)),
            _attachments(ctx, lang, ticket, events),
        ),
    )


def _facts(ctx: Ctx, lang: str, ticket: Ticket, names: dict[int | None, str]) -> Section:
    values = [
        ("site", ticket.site or "-"), ("device", ticket.device),
        ("reporter", names.get(ticket.reporter_id) or "-"),
        ("engineer", names.get(ticket.assignee_id) or "-"),
        ("priority", priority_label(ctx, ticket.priority)),
        ("category", lazy(f"category.{ticket.category}")),
        ("fault_type", _fault_type(ticket)),
        ("created", ticket_files.utc(ticket.created_at)),
        ("resolved", ticket_files.utc(ticket.resolved_at) if ticket.resolved_at else "-"),
    ]
    return Section(items=tuple(ctx.t(f"report.full.{key}", lang, value=value)
                               for key, value in values if value))


def _deadlines(ctx: Ctx, lang: str, ticket: Ticket, events: list[TicketEvent]) -> Section:
    onsite_at = timeline.first_on_site(events)
    onsite = _verdict(ctx, lang, onsite_at, ticket.onsite_due)
    if ticket.onsite_due is None and onsite_at is not None:
        onsite = ctx.t("report.full.onsite_done", lang, done=onsite_at)
    return Section(ctx.t("report.full.sla", lang), (
        ctx.t("report.deadline.response", lang,
              verdict=_verdict(ctx, lang, ticket.responded_at, ticket.response_due)),
        ctx.t("report.deadline.onsite", lang, verdict=onsite),
        ctx.t("report.deadline.resolve", lang,
              verdict=_verdict(ctx, lang, ticket.resolved_at, ticket.resolve_due)),
    ))


def _verdict(ctx: Ctx, lang: str, done: datetime | None, due: datetime | None) -> str:
    if due is None:
        return ctx.t("report.sla_none", lang)
    due = ticket_files.utc(due)
    if done is None:
        return ctx.t("report.sla_open" if ctx.now <= due else "report.sla_missed", lang, due=due)
    key = "report.sla_met" if ticket_files.utc(done) <= due else "report.sla_missed"
    return ctx.t(key, lang, due=due, done=done)


def _attachments(ctx: Ctx, lang: str, ticket: Ticket, events: list[TicketEvent]) -> Section:
    items = [ctx.t(f"report.attach.{a.kind}", lang, name=a.name,
                   size=ticket_files.size_text(a.size), time=a.at,
                   length=f"{a.seconds // 60}:{a.seconds % 60:02d}" if a.seconds else "-")
             for a in ticket_files.attachments(ticket, events)]
    where = ticket_files.place(ticket, events)
    if where is not None:
        items.append(ctx.t("report.attach.location", lang, coordinates=where.coordinates,
                           time=where.at, link=where.map_link))
    return Section(ctx.t("report.full.attachments", lang),
                   tuple(items) or (ctx.t("report.full.none", lang),))


async def _pdf(ctx: Ctx, ticket: Ticket, doc: Report, lang: str) -> FileRef | None:
    """The report as a PDF in the desk's file store; None where the desk keeps no files, or
    drawing failed (the chat report still goes out: nothing waits on the file)."""
    if ctx.files is None:
        return None
    name = ctx.t("report.full.pdf_name", lang, number=number(ticket))
    try:
        data = await report_pdf.render_async(doc, lang)
        return await ctx.files.save(data, name, "application/pdf")
    except report_pdf.FAILURES as exc:
        log.error("fault report PDF not made: %s: %s", type(exc).__name__, exc)
        return None


def _fault_type(ticket: Ticket) -> Lazy | str:
    return lazy(f"fault_type.{ticket.fault_type}") if ticket.fault_type else "-"


def _short(text: str) -> str:
    """One line of at most SUMMARY_CHARS characters: a summary, not the record."""
    line = " ".join(text.split()) or "-"
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1] + "…"
