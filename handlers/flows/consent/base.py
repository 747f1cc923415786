"""Consent's router, enums and the request record read from a ticket's events; what the
steps share (timers' keys, moving the job to remote, telling the reporter)."""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from handlers.core import logctx, tokens
from handlers.core.context import Btn, Ctx, Rows
from handlers.core.router import Router
from handlers.core.texts import Lazy
from handlers.flows.engineer.keyboard import Action as Work
from handlers.flows.engineer.keyboard import next_steps
from handlers.flows.jobs import clocks
from handlers.flows.jobs.status import move
from handlers.flows.jobs.summary import number, summary_fields
from handlers.flows.records.ticket_files import utc
from handlers.rules.lifecycle import WORKING
from storage import tickets, timers
from storage.models import Person, Progress, Ticket, TicketEvent, TicketStatus

router = Router("consent")
PLAN_MIN_CHARS = 2  # "重启" says what will be done; "好" does not
PLAN_MAX_CHARS = 200  # one line the reporter reads on a phone
REQUEST = r"\d{1,6}"  # the request's number on its ticket
# typed answers: only words that say yes or no to this question, nothing as loose as 好的
YES_WORDS = frozenset({"同意", "我同意", "同意的", "yes", "agree", "i agree"})
NO_WORDS = frozenset({"不同意", "我不同意", "no", "disagree", "i disagree"})
TRAILING = "。！!.，, " + string.whitespace


class Action(StrEnum):
    YES = "cs_yes"  # arg: the request's number
    NO = "cs_no"
    PHONE = "cs_phone"  # the engineer got consent by phone: who agreed is typed next


class State(StrEnum):
    PLAN = "consent_plan"  # the engineer typing what the remote work will do
    PHONE = "consent_phone"  # the engineer typing who agreed by phone


class Due(StrEnum):
    REMIND = "consent_remind"  # no answer yet: remind the reporter once
    LAPSE = "consent_lapse"  # still none: tell the engineer


class Event(StrEnum):
    ASKED = "consent_asked"  # the engineer's request: n, plan
    GIVEN = "consent_given"  # the reporter agreed: n
    REFUSED = "consent_refused"  # the reporter declined: n
    REMINDED = "consent_reminded"
    LAPSED = "consent_lapsed"  # the engineer was told no answer came


ANSWERS = (Event.GIVEN, Event.REFUSED)


@dataclass
class Planning:
    """The ticket whose remote work is being described."""

    ticket: int = 0


@dataclass
class Phoned:
    """The request the engineer got a yes for by phone; who said it comes next."""

    ticket: int = 0
    n: int = 0


@dataclass(frozen=True)
class Request:
    """One request for consent on a ticket, as its events tell it."""

    n: int
    plan: str
    engineer_id: int | None
    asked_at: datetime
    answer: str = ""  # "", Event.GIVEN or Event.REFUSED
    answered_by: int | None = None
    answered_at: datetime | None = None
    by_phone: str = ""  # who agreed by phone (as the engineer typed it); answered_by recorded it
    messages: tuple[str, ...] = ()  # the reporter's messages with its buttons (ask, reminder)

    @property
    def agreed(self) -> bool:
        return self.answer == Event.GIVEN


router.cancellable((State.PLAN, State.PHONE), "consent.cancelled")
WHO_MAX_CHARS = 60  # a name and a phone number


def requests(events: Sequence[TicketEvent]) -> list[Request]:
    """Every request of a ticket, oldest first, with its answer if it has one."""
    found: dict[int, Request] = {}
    for e in events:
        n = _n(e)
        message = (e.details or {}).get("message")
        if e.kind == Event.ASKED and n:
            found[n] = Request(n, str(e.details.get("plan", "")), e.actor_id, utc(e.at),
                               messages=(message,) if isinstance(message, str) else ())
        elif e.kind == Event.REMINDED and n in found and isinstance(message, str):
            found[n] = replace(found[n], messages=(*found[n].messages, message))
        elif e.kind in ANSWERS and n in found and not found[n].answer:
            found[n] = replace(found[n], answer=e.kind, answered_by=e.actor_id,
                               answered_at=utc(e.at),
                               by_phone=str((e.details or {}).get("by_phone", "")))
    return sorted(found.values(), key=lambda r: r.n)


def _n(e: TicketEvent) -> int:
    value = (e.details or {}).get("n")
    return value if isinstance(value, int) else 0


def may_go_remote(ticket: Ticket) -> bool:
    """Remote work is still a step the job can take (not already remote, on the way or done)."""
    return ticket.status in WORKING and Work.REMOTE in next_steps(ticket)


def waiting(ticket: Ticket, found: Sequence[Request]) -> Request | None:
    """The request the reporter may still answer: the newest, unanswered, asked by the person
    who holds the job, while remote work is still a step the job can take."""
    if not found or found[-1].answer or found[-1].engineer_id != ticket.assignee_id:
        return None
    return found[-1] if may_go_remote(ticket) else None


def answer_rows(ticket: Ticket, n: int) -> Rows:
    return [[("consent.button.yes", tokens.ticket(ticket.id, Action.YES, n)),
             ("consent.button.no", tokens.ticket(ticket.id, Action.NO, n))]]


def on_site_rows(ticket: Ticket, n: int = 0) -> Rows:
    """出发去现场, and with a request's number 已电话征得同意 for it."""
    row: list[Btn] = [("button.on_the_way", tokens.ticket(ticket.id, Work.ON_THE_WAY))]
    if n:
        row.append(("consent.button.phone", tokens.ticket(ticket.id, Action.PHONE, n)))
    return [row]



def timer_key(kind: Due, ticket: Ticket) -> str:
    return f"{kind}:{ticket.id}"


async def schedule(ctx: Ctx, ticket: Ticket, kind: Due, n: int) -> None:
    due = ctx.now + timedelta(minutes=ctx.config.consent_reminder_minutes)
    await timers.schedule(ctx.tx, timer_key(kind, ticket), kind, due, ticket_id=ticket.id,
                          payload={"n": n})


async def tell_reporter(ctx: Ctx, ticket: Ticket, key: str, rows: Rows,
                        **fields: Any) -> str | None:
    """The message's key; None when the reporter cannot be reached."""
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    if reporter is None:
        return None
    return await ctx.notify(reporter, key, rows, number=number(ticket), **fields)


async def locked(ctx: Ctx, ticket: Ticket) -> Ticket:
    found = await tickets.get(ctx.tx, ticket.id or 0, lock=True)
    assert found is not None
    logctx.ticket(found.id)
    return found


async def start_remote(ctx: Ctx, ticket: Ticket, asked: Request) -> dict[str, Any]:
    """The job moves to remote progress by the engineer who asked; the ticket's fields."""
    await move(ctx.tx, ticket, TicketStatus.IN_PROGRESS, ctx.now, asked.engineer_id,
               progress=str(Progress.REMOTE), consent=asked.n)
    ticket.progress = str(Progress.REMOTE)
    await clocks.resume(ctx, ticket)
    return summary_fields(ctx, ticket)


async def close_buttons(ctx: Ctx, ticket: Ticket, asked: Request, outcome: Lazy) -> None:
    """The reporter's request (and its reminder) keep their words, lose their buttons and say
    how it ended: nothing stale stays pressable on any channel."""
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    engineer = await ctx.tx.get(Person, asked.engineer_id) if asked.engineer_id else None
    if reporter is None:
        return
    for key in asked.messages:
        await ctx.edit(key, reporter, "consent.request_closed", name=engineer.name if engineer
                       else "-", number=number(ticket), plan=asked.plan, outcome=outcome)
