"""SQLModel tables: the service record and the machinery around it.

All times are timezone-aware UTC (SQLModel refuses naive datetimes). Enumerations are
stored as text so a new state never needs a database enum migration.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class Role(StrEnum):
    REPORTER = "reporter"
    ENGINEER = "engineer"
    EXPERT = "expert"
    MANAGER = "manager"
    ADMIN = "admin"
    MONITOR = "monitor"  # the monitoring system: reporter of alarm-born tickets, never chats


class TicketStatus(StrEnum):
    NEW = "new"
    PAGED = "paged"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_REPORTER = "waiting_for_reporter"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Progress(StrEnum):
    """Where the work stands while a ticket is in progress."""

    REMOTE = "remote"
    ON_THE_WAY = "on_the_way"
    ON_SITE = "on_site"


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    phone: str = Field(default="", max_length=40)
    role: str = Field(default=Role.REPORTER, max_length=20, index=True)
    site: str = Field(default="", max_length=100)
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    language: str = Field(default="zh", max_length=5)
    on_duty: bool = True
    rota: str = Field(default="", max_length=200)  # e.g. "mon-fri 08:00-18:00; sat 08:00-12:00"
    active: bool = True
    # may open tickets: people added by an admin, invited, from a company directory, or
    # approved by a manager; a stranger who registered without an invitation waits (False)
    approved: bool = True
    # a manager's sites (migration 0008): notices, digests, /open and /report cover these;
    # empty = every site. `title` "coordinator" (服务协调员): a manager by rights, by name not
    scope: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    title: str = Field(default="", max_length=40)
    created_at: datetime


class ChatIdentity(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("channel", "external_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    channel: str = Field(max_length=20)
    external_user_id: str = Field(max_length=128)
    chat_id: str = Field(max_length=128)  # where to reach the person privately
    unreachable: bool = False  # blocked the bot: deliveries stop, the desk goes on
    last_seen: datetime | None = None  # the identity a person used last is where we reach them


class Conversation(SQLModel, table=True):
    """One person's dialogue state in one chat; the only conversation memory there is."""

    __table_args__ = (UniqueConstraint("channel", "chat_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=128)
    user_id: str = Field(max_length=128)
    state: str = Field(default="idle", max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    language: str = Field(default="", max_length=5)  # before the person is known
    updated_at: datetime


class SeenUpdate(SQLModel, table=True):
    """Idempotency: an update id is written in the same transaction as its effects."""

    channel: str = Field(primary_key=True, max_length=20)
    update_id: str = Field(primary_key=True, max_length=160)
    at: datetime


class Ticket(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="person.id", index=True)
    site: str = Field(default="", max_length=100)
    device: str = Field(default="", max_length=200)
    category: str = Field(default="general", max_length=40)
    fault_type: str = Field(default="", max_length=40)
    priority: str = Field(default="P3", max_length=2)
    impact: str = Field(default="", max_length=20)
    description: str
    status: str = Field(default=TicketStatus.NEW, max_length=30, index=True)
    progress: str = Field(default="", max_length=20)
    assignee_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    tier: int = 1
    attachments: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    location: list[float] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    kb_shown: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    cause: str = ""
    fix: str = ""
    prevention: str = ""
    satisfaction: int | None = None  # 1–5 from the follow-up survey
    survey_state: str = Field(default="", max_length=20)  # "", sent, answered, no_response
    recurrences: int = 0  # times the fault came back after the fix (follow-up)
    followup_step: str = Field(default="", max_length=20)  # recurrence, score, comment
    followups_sent: int = 0  # follow-up messages so far (never more than two)
    onsite_due: datetime | None = None  # policies with an on-site promise
    paused_at: datetime | None = None  # resolution clock stopped while waiting for the reporter
    channel: str = Field(default="", max_length=20)
    created_at: datetime
    updated_at: datetime
    response_due: datetime
    resolve_due: datetime
    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    confirmed_at: datetime | None = None
    closed_at: datetime | None = None


class TicketEvent(SQLModel, table=True):
    """Append-only audit trail: the service record (服务档案) of every job."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: datetime
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    kind: str = Field(max_length=40)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PageState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SUPERSEDED = "superseded"  # someone else took the job, or it was cancelled


class Page(SQLModel, table=True):
    """One engineer asked to take one ticket; the routing history of a job."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    state: str = Field(default=PageState.PENDING, max_length=20)
    message_key: str = Field(max_length=160)  # the outbox key of the page, to edit it later
    at: datetime
    answered_at: datetime | None = None


class TimerState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


class Timer(SQLModel, table=True):
    """A durable timer; `key` is deterministic so re-scheduling replaces, never duplicates."""

    __table_args__ = (Index("ix_timer_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, unique=True)
    kind: str = Field(max_length=40)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    due_at: datetime
    state: str = Field(default=TimerState.PENDING, max_length=20)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = None
    attempts: int = 0
    fired_at: datetime | None = None


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up after the configured attempts, or the person is unreachable


class Outbox(SQLModel, table=True):
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=200, unique=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=128, index=True)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    state: str = Field(default=OutboxState.PENDING, max_length=20)
    attempts: int = 0
    created_at: datetime
    next_attempt_at: datetime
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    platform_message_id: str | None = Field(default=None, max_length=128)
    last_error: str = Field(default="", max_length=500)


class SelfServiceOutcome(StrEnum):
    SOLVED = "solved"
    NOT_SOLVED = "not_solved"


class SelfServiceAttempt(SQLModel, table=True):
    """Articles shown before a ticket, and whether they solved the problem."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    query: str
    article_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    outcome: str = Field(default="", max_length=20)
    solved_article: str = Field(default="", max_length=120)  # the article that solved it
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    at: datetime


class ComplaintState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Complaint(SQLModel, table=True):
    """投诉: a supervision channel to the service manager, with its own clock."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    text: str
    state: str = Field(default=ComplaintState.OPEN, max_length=20, index=True)
    handler_id: int | None = Field(default=None, foreign_key="person.id")
    resolution: str = ""
    created_at: datetime
    ack_due: datetime
    resolve_due: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None


class DraftState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class KbDraft(SQLModel, table=True):
    """A knowledge-base article drafted from a solved ticket, until a manager decides."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    author_id: int | None = Field(default=None, foreign_key="person.id")
    article_id: str = Field(max_length=80, unique=True)
    title: str = Field(max_length=200)
    lang: str = Field(default="zh", max_length=5)
    category: str = Field(default="general", max_length=40)
    symptoms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    body: str
    state: str = Field(default=DraftState.PENDING, max_length=20, index=True)
    # approved as steps a reporter may follow alone; otherwise searchable for staff only
    reporter_safe: bool = False
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: int | None = Field(default=None, foreign_key="person.id")


class Invitation(SQLModel, table=True):
    """A code a manager hands out so that people of one site may register and report.

    Only the code's SHA-256 is kept: the code itself is shown once, to the manager."""

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    site: str = Field(max_length=100)
    uses_left: int
    expires_at: datetime
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class Approval(SQLModel, table=True):
    """A stranger who registered without an invitation, until a manager decides."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)
    state: str = Field(default=ApprovalState.PENDING, max_length=20, index=True)
    requested_at: datetime
    reminded_at: datetime | None = None  # the managers are reminded once, when the person
    decided_at: datetime | None = None  # … tries to report
    decided_by: int | None = Field(default=None, foreign_key="person.id")


class Device(SQLModel, table=True):
    """A monitored device as the orchard's registry lists it (gateway, controller, sensor …)."""

    id: str = Field(primary_key=True, max_length=120)  # the id monitoring uses
    name: str = Field(default="", max_length=200)
    type: str = Field(default="", max_length=60)  # gateway, controller, sensor, camera …
    site: str = Field(default="", max_length=100)
    plot: str = Field(default="", max_length=100)
    parent: str = Field(default="", max_length=120, index=True)  # the gateway it talks through
    category: str = Field(default="", max_length=40)  # ticket category for its faults
    heartbeat_minutes: int | None = None  # must report this often; None: no heartbeat watch
    last_heartbeat: datetime | None = None
    registered: bool = True  # False: first seen in an alarm, not in the registry
    updated_at: datetime


class IncidentState(StrEnum):
    OPEN = "open"  # firing, or its ticket is not closed yet
    CLEARED = "cleared"  # cleared before anyone was paged: recorded only
    CLOSED = "closed"  # its ticket closed


class Incident(SQLModel, table=True):
    """One fault monitoring saw: every alarm of one device and type while it lasts.

    `open_key` holds the alarm key while the incident is open and NULL after: the unique
    constraint makes "one open incident per key" hold across replicas."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=240, index=True)
    open_key: str | None = Field(default=None, max_length=240, unique=True)
    device: str = Field(default="", max_length=120, index=True)
    kind: str = Field(default="", max_length=120)
    source: str = Field(default="", max_length=20)
    severity: str = Field(default="warning", max_length=10)
    summary: str = ""
    site: str = Field(default="", max_length=100)
    plot: str = Field(default="", max_length=100)
    category: str = Field(default="general", max_length=40)
    state: str = Field(default=IncidentState.OPEN, max_length=10, index=True)
    firing: bool = True
    flapping: bool = False
    count: int = 1  # alarms received for it, repeats included
    flaps: int = 0  # times it cleared and fired again
    parent_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    first_at: datetime  # the alarm's own time of the first firing
    last_at: datetime
    received_at: datetime  # when the desk first heard of it
    cleared_at: datetime | None = None
    paged_at: datetime | None = None


class AlarmRecord(SQLModel, table=True):
    """Every alarm state received, as the history of its incident (and for availability)."""

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    at: datetime  # the alarm's own time
    received_at: datetime
    firing: bool
    severity: str = Field(default="warning", max_length=10)
    source: str = Field(default="", max_length=20)
    summary: str = Field(default="", max_length=1000)


class TicketFollower(SQLModel, table=True):
    """Someone else who reported the same fault: told of the ticket's progress and fix."""

    __table_args__ = (UniqueConstraint("ticket_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    text: str = ""  # what they wrote
    at: datetime


class WebChatLine(SQLModel, table=True):
    """One line of a web chat as its page shows it: what the bot sent (under its outbox key,
    so an edit replaces it) and what the person typed or pressed. The page asks for these on
    every (re)connect, from any device; only the latest lines of each chat are kept."""

    __table_args__ = (UniqueConstraint("chat_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: str = Field(max_length=128)
    key: str = Field(max_length=200)  # the outbox key; the person's lines: "me:<update id>"
    mine: bool = False  # the person's own line
    text: str
    # [[label, token], …] rows: the bot's buttons; on the person's line, the one they pressed
    buttons: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    files: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    at: datetime


class SwapState(StrEnum):
    ASKED = "asked"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # the shift was no longer the asker's when answered
    EXPIRED = "expired"  # unanswered when the shift began


class ShiftSwap(SQLModel, table=True):
    """An engineer asks a colleague to take one shift of a site's rota (/swap); accepted, the
    colleague is on duty for that shift in the asker's place (handlers/rules/shifts.py)."""

    __table_args__ = (Index("ix_shiftswap_state_starts_at", "state", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=100)
    starts_at: datetime  # the shift as the rota had it when asked
    ends_at: datetime
    from_id: int = Field(foreign_key="person.id", index=True)
    to_id: int = Field(foreign_key="person.id", index=True)
    state: str = Field(default=SwapState.ASKED, max_length=20)
    message_key: str = Field(default="", max_length=160)  # the question, edited once answered
    asked_at: datetime
    answered_at: datetime | None = None


class RunState(StrEnum):
    DUE = "due"  # the checklist was sent; not started yet
    STARTED = "started"
    PAUSED = "paused"
    DONE = "done"
    MISSED = "missed"  # not finished by the deadline and its grace period


class InspectionRun(SQLModel, table=True):
    """One occurrence of an inspection plan (定期巡检) and who does it. (plan_key, due_at) is
    unique: a second replica creating the same occurrence fails instead of sending twice."""

    __table_args__ = (UniqueConstraint("plan_key", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_key: str = Field(max_length=40, index=True)
    plan_name: str = Field(default="", max_length=200)  # as the plan was named then
    site: str = Field(default="", max_length=100)
    due_at: datetime
    deadline: datetime
    assignee_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    state: str = Field(default=RunState.DUE, max_length=20, index=True)
    # the checklist as it was when the run began: the plans file may change under a run
    items: list[dict[str, Any]] = Field(default_factory=list,
                                        sa_column=Column(JSON, nullable=False))
    current_item: int = 0  # index of the next item to answer
    started_at: datetime | None = None
    finished_at: datetime | None = None


class InspectionReading(SQLModel, table=True):
    """One checklist item answered: the value, whether it was normal, and the ticket it
    opened when it was not."""

    __table_args__ = (UniqueConstraint("run_id", "item_key"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="inspectionrun.id", index=True)
    item_key: str = Field(max_length=40)
    kind: str = Field(max_length=20)  # pass_fail, number, photo, text
    value: str = Field(default="", max_length=1000)  # pass / fail / skipped, typed text, note
    number: float | None = None
    photo: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    ok: bool = True
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    at: datetime


class PartUsage(SQLModel, table=True):
    """A spare part an engineer used on a job (备品备件), recorded at resolution (migration
    0006). The names and unit are the parts list's at the time: a list edited later never
    rewrites what was used."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    code: str = Field(max_length=20, index=True)
    name: str = Field(max_length=60)  # name_zh
    name_en: str = Field(default="", max_length=60)
    unit: str = Field(max_length=10)  # handlers/rules/parts.py UNITS
    quantity: int
    engineer_id: int | None = Field(default=None, foreign_key="person.id")
    recorded_at: datetime = Field(index=True)
