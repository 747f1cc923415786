"""Tickets for a terminal (`frontline tickets list|show`): times in the site's zone, marked
with it; every line with control characters made visible (a description's ESC or BEL never
acts on the operator's terminal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.core.escape import visible
from handlers.flows import consent
from handlers.flows.records import ticket_files
from storage import tickets

REPORT_SENT = "report_sent"  # handlers/flows/records/fault_report.py: names the kept PDF


def local(when: datetime | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return ticket_files.utc(when).astimezone(zone).strftime(fmt) if when else "-"


def show(t: Any, events: list[Any], names: dict[int | None, str], zone: ZoneInfo,
         used: Sequence[Any] = ()) -> str:
    def at(when: datetime | None) -> str:
        return local(when, zone)

    lines = [
        f"{tickets.number(t.id)}  {t.priority}  {t.status}",
        f"reporter: {names.get(t.reporter_id, '-')}  site: {t.site or '-'}  "
        f"assignee: {names.get(t.assignee_id, '-')}",
        f"category: {t.category}  impact: {t.impact}  fault type: {t.fault_type or '-'}",
        f"times in {zone.key}",
        f"created {at(t.created_at)}",
        f"response due {at(t.response_due)}  responded {at(t.responded_at)}",
        f"resolve due {at(t.resolve_due)}  resolved {at(t.resolved_at)}",
        f"description: {t.description}",
    ]
    if t.cause or t.fix:
        lines.append(f"cause: {t.cause}  fix: {t.fix}")
    lines += _attachments(t, events, zone)
    lines += _consent(events, names, zone)
    lines += _parts(used)
    lines.append("events:")
    for e in events:
        who = names.get(e.actor_id, "bot")
        lines.append(f"  {local(e.at, zone, '%Y-%m-%d %H:%M:%S')}  {who:<8} {e.kind:<12} "
                     f"{e.details}")
    return "\n".join(visible(line) for line in lines)


def _attachments(t: Any, events: list[Any], zone: ZoneInfo) -> list[str]:
    files = ticket_files.attachments(t, events)
    where = ticket_files.place(t, events)
    lines = [f"attachments: {len(files)}" + ("" if files or where else " (none)")]
    for a in files:
        length = f", {a.seconds // 60}:{a.seconds % 60:02d}" if a.seconds else ""
        lines.append(f"  {a.kind:<6} {a.name}  {ticket_files.size_text(a.size)}{length}  "
                     f"{local(a.at, zone)}")
    if where is not None:
        lines.append(f"  location {where.coordinates}  {local(where.at, zone)}  {where.map_link}")
    for e in events:
        if e.kind == REPORT_SENT:
            for f in (e.details or {}).get("files", []):
                lines.append(f"  report {f.get('name', '')} ({f.get('lang', '')})  "
                             f"{ticket_files.size_text(int(f.get('size', 0) or 0))}  "
                             f"file key {f.get('key', '')}")
    return lines


def _consent(events: list[Any], names: dict[int | None, str], zone: ZoneInfo) -> list[str]:
    """Each request for consent to remote work: who asked what, who answered and when."""
    answers = {consent.Event.GIVEN: "agreed", consent.Event.REFUSED: "declined"}
    lines = []
    for r in consent.requests(events):
        answered = (f"{names.get(r.answered_by, '-')} {answers[consent.Event(r.answer)]} "
                    f"{local(r.answered_at, zone)}") if r.answer else "no answer"
        if r.by_phone:
            answered = (f"{r.by_phone} agreed by phone {local(r.answered_at, zone)}, recorded "
                        f"by {names.get(r.answered_by, '-')}")
        lines.append(f"remote consent #{r.n}: {names.get(r.engineer_id, '-')} asked "
                     f"{local(r.asked_at, zone)} «{r.plan}»; {answered}")
    return lines


def _parts(used: Sequence[Any]) -> list[str]:
    """The spare parts the job used (storage.parts.Used totals), names as recorded."""
    lines = [f"parts used: {len(used)}" + ("" if used else " (none)")]
    lines += [f"  {u.code:<12} {u.quantity:>4} {u.unit:<5} {u.name} / {u.name_en}" for u in used]
    return lines
