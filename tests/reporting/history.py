"""A generated history with known answers: ten October tickets (site time Asia/Shanghai)
whose SLA outcomes, scores, categories and events were chosen by hand.

    id  created (UTC)      pri cat      site eng  type      respond  resolve  survey
    T0  09-30 17:00 (=10-01 01:00 local)  P3 sensor  B 王工 config   1h ok    4h ok    5
    T1  10-05 02:00        P1 valve     A  张工 hardware  1h ok    3h ok    5
    T2  10-06 02:00        P2 network   B  王工 config    5h MISS  7h ok    4   on site
    T3  10-07 02:00        P3 valve     A  张工 hardware  2h ok    30h MISS 2   on the way
    T4  10-08 02:00        P3 sensor    A  张工 operator  1h ok    25h MISS no response
    T5  10-09 02:00        P4 platform  B  王工 software  10h ok   20h ok   3
    T6  10-20 02:00        P2 camera    B  -    -         never    never    -
    T7  10-21 02:00        P3 valve     A  -    -         cancelled before a response
    T8  10-22 02:00        P1 power     A  张工 hardware  45m ok   3.4h ok  sent (pending)
    T9  10-31 15:59 (=23:59 local)  P4 general A 张工 improvement 1h 2h: due and resolved
                           after the month ends, so only in the volumes and durations
    T10 10-31 16:00 (=11-01 00:00 local)  P3 pest B: November, not October
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from storage import people
from storage.models import Complaint, Role, SelfServiceAttempt, Ticket, TicketEvent
from storage.uow import Database

WINDOWS = {"P1": (2, 4), "P2": (4, 8), "P3": (8, 24), "P4": (24, 48)}


def utc(month: int, day: int, hour: int = 2, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# (created, priority, category, site, engineer, fault type, respond h, resolve h, extra)
ROWS: list[tuple[datetime, str, str, str, str | None, str, float | None, float | None,
                 dict[str, Any]]] = [
    (utc(9, 30, 17), "P3", "sensor", "二号园区", "王工", "config", 1, 4,
     {"satisfaction": 5, "survey_state": "answered"}),
    (utc(10, 5), "P1", "valve", "一号园区", "张工", "hardware", 1, 3,
     {"satisfaction": 5, "survey_state": "answered", "device": "3号阀", "cause": "线圈烧坏",
      "kb_shown": ["valve-wont-open"]}),
    (utc(10, 6), "P2", "network", "二号园区", "王工", "config", 5, 7,
     {"satisfaction": 4, "survey_state": "answered", "cause": "APN 配置错误",
      "device": "网关1"}),
    (utc(10, 7), "P3", "valve", "一号园区", "张工", "hardware", 2, 30,
     {"satisfaction": 2, "survey_state": "answered", "device": " 3号阀", "cause": " 线圈烧坏 ",
      "kb_shown": ["valve-wont-open"]}),
    (utc(10, 8), "P3", "sensor", "一号园区", "张工", "operator", 1, 25,
     {"survey_state": "no_response"}),
    (utc(10, 9), "P4", "platform", "二号园区", "王工", "software_bug", 10, 20,
     {"satisfaction": 3, "survey_state": "answered"}),
    (utc(10, 20), "P2", "camera", "二号园区", None, "", None, None, {"status": "paged"}),
    (utc(10, 21), "P3", "valve", "一号园区", None, "", None, None, {"status": "cancelled"}),
    (utc(10, 22), "P1", "power", "一号园区", "张工", "hardware", 0.75, 3.4,
     {"survey_state": "sent", "cause": "电池老化"}),
    (utc(10, 31, 15, 59), "P4", "general", "一号园区", "张工", "improvement", 1, 2, {}),
    (utc(10, 31, 16, 0), "P3", "pest", "二号园区", "王工", "hardware", 1, 2, {}),
]


async def seed(db: Database) -> dict[str, int]:
    """Write the history; returns the people's ids by name."""
    now = utc(9, 1)
    async with db.transaction() as tx:
        ids: dict[str, int] = {}
        for name, role in (("李明", Role.REPORTER), ("张工", Role.ENGINEER),
                           ("王工", Role.ENGINEER)):
            ids[name] = (await people.add_person(tx, name=name, role=role, now=now)).id or 0
        made = [ticket(ids, *row) for row in ROWS]
        for t in made:
            tx.add(t)
        await tx.flush()
        for t in made:
            assert t.id is not None
        for obj in extras([t.id or 0 for t in made], ids["李明"]):
            tx.add(obj)
    return ids


def ticket(ids: dict[str, int], created: datetime, pri: str, cat: str, site: str,
           eng: str | None, fault: str, resp: float | None, res: float | None,
           extra: dict[str, Any]) -> Ticket:
    respond_h, resolve_h = WINDOWS[pri]
    done = res is not None
    fields: dict[str, Any] = {
        "reporter_id": ids["李明"], "site": site, "category": cat, "priority": pri,
        "fault_type": fault, "description": f"{cat} fault", "created_at": created,
        "updated_at": created, "assignee_id": ids[eng] if eng else None,
        "response_due": created + timedelta(hours=respond_h),
        "resolve_due": created + timedelta(hours=resolve_h),
        "responded_at": created + timedelta(hours=resp) if resp is not None else None,
        "resolved_at": created + timedelta(hours=res) if res is not None else None,
        "status": "closed" if done else "paged",
    }
    return Ticket(**(fields | extra))


def extras(t: list[int], person: int) -> list[Any]:
    def event(i: int, kind: str, at: datetime, **details: Any) -> TicketEvent:
        return TicketEvent(ticket_id=t[i], kind=kind, at=at, details=details)

    def attempt(
        at: datetime, outcome: str, *articles: str, solved: str = ""
    ) -> SelfServiceAttempt:
        """Self-service shown `articles`; a solved one credits `solved` (default: the first)."""
        by = (solved or articles[0]) if outcome == "solved" else ""
        return SelfServiceAttempt(person_id=person, query="阀门", article_ids=list(articles),
                                  outcome=outcome, solved_article=by, at=at)

    def complaint(at: datetime) -> Complaint:
        return Complaint(person_id=person, text="太慢", created_at=at, ack_due=at,
                         resolve_due=at)

    return [
        event(2, "status", utc(10, 6, 4), **{"from": "acknowledged", "to": "in_progress",
                                             "progress": "remote"}),
        event(2, "status", utc(10, 6, 5), **{"from": "in_progress", "to": "in_progress",
                                             "progress": "on_site"}),
        event(3, "status", utc(10, 7, 4), **{"from": "acknowledged", "to": "in_progress",
                                             "progress": "on_the_way"}),
        event(1, "status", utc(10, 5, 3), **{"from": "acknowledged", "to": "in_progress",
                                             "progress": "remote"}),
        event(3, "recurrence", utc(10, 10)),
        event(8, "escalated", utc(10, 22, 3), tier=2, reason="timeout"),
        event(2, "escalated", utc(10, 6, 6), tier=3, reason="vendor"),
        event(2, "sla_breached", utc(10, 6, 6), clock="response"),
        event(6, "sla_breached", utc(10, 20, 6), clock="response"),
        event(3, "sla_breached", utc(10, 8, 2), clock="resolve"),
        event(6, "sla_breached", utc(10, 20, 10), clock="resolve"),
        event(10, "sla_breached", utc(11, 2), clock="resolve"),  # November
        attempt(utc(10, 3), "solved", "valve-wont-open"),
        attempt(utc(10, 4), "solved", "valve-wont-open"),
        attempt(utc(10, 12), "solved", "valve-wont-open", "gateway-reset", solved="gateway-reset"),
        attempt(utc(10, 13), "not_solved", "valve-wont-open"),
        attempt(utc(11, 3), "solved", "valve-wont-open"),  # November
        complaint(utc(10, 15)),
        complaint(utc(11, 15)),  # November
    ]
