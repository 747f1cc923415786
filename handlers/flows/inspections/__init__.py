"""Scheduled inspections (定期巡检): plans as data (handlers/rules/inspections.py), a run per
occurrence sent to an engineer on duty, the checklist answered in chat, findings as tickets.

    base.py       the router, enums, dialogue data, words shared by the others
    assign.py     who does a run
    runs.py       occurrences, reminders, overdue and missed runs, timers at start
    checklist.py  the dialogue: start, answers, pause / continue, the summary
    findings.py   abnormal readings become tickets
"""

from handlers.flows.inspections import checklist, runs
from handlers.flows.inspections.base import router

__all__ = ["checklist", "router", "runs"]
