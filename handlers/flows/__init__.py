"""The flows, one module or package each, and the one fixed order their routes are tried in.

The order matters only where routes overlap: the idle-text handlers are tried in this order
(a survey comment first, then an answer to an engineer's question, then a new report), and
the first router's catch-all for photos and locations wins.
"""

from __future__ import annotations

from handlers.core.router import Router, Routes
from handlers.flows import (
    admission,
    common,
    complaints,
    consent,
    escalation,
    followup,
    knowledge,
    manager,
    oncall,
    registration,
    reporter,
)
from handlers.flows.alarms import incidents as alarms
from handlers.flows.engineer import parts, work
from handlers.flows.inspections import router as inspections
from handlers.flows.intake import media, report
from handlers.flows.jobs import paging
from handlers.flows.records import retention
from handlers.flows.reporting import chat as reporting

ORDER: tuple[Router, ...] = (
    registration.router,
    admission.router,
    common.router,
    consent.router,  # 同意 / 不同意 typed: before a survey comment, an answer or a report
    followup.router,
    reporter.router,
    complaints.router,
    paging.router,
    work.router,
    parts.router,
    escalation.router,
    knowledge.router,
    manager.router,
    oncall.router,
    reporting.router,
    retention.router,
    alarms.router,
    inspections,
    media.router,
    report.router,
)


def routes() -> Routes:
    """Every flow's routes, assembled (a key claimed twice fails here, at start)."""
    return Routes.assemble(ORDER)
