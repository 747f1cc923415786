"""The fault report (故障处理报告): type, cause, handling, timeline with each SLA met or
missed, and advice — produced when a job is resolved, due within 12 h by the service plan.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from handlers.core import escape
from handlers.core.context import Ctx
from handlers.core.messages import FileRef
from handlers.core.texts import lazy
from handlers.flows.jobs.status import STATUS_EVENT
from storage import people, tickets
from storage.models import Person, Progress, Role, Ticket


class Event(StrEnum):
    REPORT_SENT = "report_sent"


def _verdict(ctx: Ctx, lang: str, done: datetime | None, due: datetime | None) -> str:
    if due is None:
        return ctx.t("report.sla_none", lang)
    if done is None:
        return ctx.t("report.sla_open" if ctx.now <= due else "report.sla_missed", lang, due=due)
    key = "report.sla_met" if done <= due else "report.sla_missed"
    return ctx.t(key, lang, due=due, done=done)


async def markdown(ctx: Ctx, ticket: Ticket, lang: str) -> str:
    """The whole report as Markdown, in one language. What people wrote (names, site,
    description, cause, fix, prevention) is escaped: it shows as written, never as markup."""
    names = {p.id: escape.markdown(p.name, inline=True) for p in await people.people(ctx.tx)}
    md = escape.markdown
    onsite_at = await _first_on_site(ctx, ticket)
    lines = [
        ctx.t("report.title", lang, number=tickets.number(ticket.id or 0),
              company=md(ctx.config.company_name, inline=True)),
        "",
        ctx.t("report.facts", lang, site=md(ticket.site, inline=True) or "-",
              reporter=names.get(ticket.reporter_id, "-"),
              engineer=names.get(ticket.assignee_id, "-"),
              priority=lazy(f"priority.{ticket.priority}"),
              category=lazy(f"category.{ticket.category}"),
              fault_type=lazy(f"fault_type.{ticket.fault_type}") if ticket.fault_type else "-",
              created=ticket.created_at, resolved=ticket.resolved_at or "-"),
        "",
        ctx.t("report.body", lang, description=md(ticket.description),
              cause=md(ticket.cause) or "-", fix=md(ticket.fix) or "-",
              prevention=md(ticket.prevention) or "-"),
        "",
        ctx.t("report.sla_header", lang),
        ctx.t("report.sla_response", lang,
              verdict=_verdict(ctx, lang, ticket.responded_at, ticket.response_due)),
        ctx.t("report.sla_onsite", lang,
              verdict=_verdict(ctx, lang, onsite_at, ticket.onsite_due)),
        ctx.t("report.sla_resolve", lang,
              verdict=_verdict(ctx, lang, ticket.resolved_at, ticket.resolve_due)),
        "",
        ctx.t("report.timeline", lang),
    ]
    for e in await tickets.events(ctx.tx, ticket.id or 0):
        what = ctx.t(f"event.{e.kind}", lang) if ctx.texts.has(f"event.{e.kind}") else e.kind
        if e.kind == STATUS_EVENT:
            what += " → " + ctx.t(f"status.{e.details.get('to', 'new')}", lang)
        who = names.get(e.actor_id, ctx.t("event.bot", lang))
        lines.append(f"- {ctx.texts.time(lang, e.at)} {who}: {what}")
    return "\n".join(lines) + "\n"


async def _first_on_site(ctx: Ctx, ticket: Ticket) -> datetime | None:
    for e in await tickets.events(ctx.tx, ticket.id or 0):
        if e.kind == STATUS_EVENT and e.details.get("progress") == Progress.ON_SITE:
            return e.at
    return None


async def send(ctx: Ctx, ticket: Ticket) -> None:
    """Send the report to the reporter and the managers, each in their language, with the
    Markdown file attached where the desk can store files."""
    recipients: list[Person] = await people.people_with_roles(ctx.tx, (Role.MANAGER,))
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter is not None:
        recipients = [reporter, *recipients]
    for person in recipients:
        lang = ctx.texts.lang(person.language)
        text = await markdown(ctx, ticket, lang)
        files = await _file(ctx, ticket, text, lang)
        await ctx.notify(person, "report.message", files=files, report=text)
    await tickets.add_event(ctx.tx, ticket, Event.REPORT_SENT, ctx.now)


async def _file(ctx: Ctx, ticket: Ticket, text: str, lang: str) -> tuple[FileRef, ...]:
    if ctx.files is None:
        return ()
    name = f"{tickets.number(ticket.id or 0)}-report-{lang}.md"
    return (await ctx.files.save(text.encode("utf-8"), name, "text/markdown"),)
