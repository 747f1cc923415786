"""Consent before remote work (远程操作须征得客户同意): the service plan lets an engineer work on
the client's system remotely only after the client agreed.

    远程处理 ──► the engineer types one line: what will be done (consent_plan; /cancel leaves)
             ──► the reporter is asked 同意 / 不同意 with that line and the engineer's name
    同意     ──► the job moves to remote progress; the engineer is told to start
    不同意   ──► the engineer is told at once and offered 出发去现场; nothing remote
    silence  ──(consent_reminder_minutes)──► one reminder ──(as long again)──► the engineer
                is told (出发去现场, 已电话征得同意, or wait: a late 同意 still counts)
    no chat  ──► monitoring opened the job, or the reporter blocked us: the engineer is offered
                出发去现场 or 已电话征得同意 (consent_phone: who agreed, typed; recorded as theirs)

The record is the ticket's events (asked, given, refused, reminded, lapsed), numbered per
ticket: a button carries its request's number, so a newer request makes the older buttons
stale. The SLA clock keeps running while waiting unless the policy says `consent_pauses`.
"""

from handlers.flows.consent import phone, silence
from handlers.flows.consent.asking import ask_plan
from handlers.flows.consent.base import Action, Due, Event, Request, State, requests, router
from handlers.flows.consent.record import record_lines, report_sections

__all__ = ["Action", "Due", "Event", "Request", "State", "ask_plan", "phone", "record_lines",
           "report_sections", "requests", "router", "silence"]
