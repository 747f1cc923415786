"""The ticket life as one transition table; `move` is the only way a status changes.

    new ──► paged ──► acknowledged ──► in_progress ──► resolved ──► closed
     │        │            │              │  ▲            │
     │        │            │              ▼  │            ▼
     │        │            │      waiting_for_reporter   reopened ──► in_progress / resolved
     └────────┴────────────┴──► cancelled
"""

from __future__ import annotations

import logging
from typing import Any

from handlers import logctx
from handlers.errors import IllegalTransition
from storage import tickets
from storage.models import Ticket
from storage.models import TicketStatus as S
from storage.uow import Tx

log = logging.getLogger(__name__)

TRANSITIONS: dict[S, frozenset[S]] = {
    S.NEW: frozenset({S.PAGED, S.ACKNOWLEDGED, S.CANCELLED}),
    S.PAGED: frozenset({S.PAGED, S.ACKNOWLEDGED, S.CANCELLED}),
    S.ACKNOWLEDGED: frozenset(
        {S.IN_PROGRESS, S.WAITING_FOR_REPORTER, S.RESOLVED, S.PAGED, S.CANCELLED}
    ),
    S.IN_PROGRESS: frozenset({S.IN_PROGRESS, S.WAITING_FOR_REPORTER, S.RESOLVED, S.CANCELLED}),
    S.WAITING_FOR_REPORTER: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.IN_PROGRESS, S.WAITING_FOR_REPORTER, S.RESOLVED, S.CANCELLED}),
    S.CLOSED: frozenset({S.REOPENED}),  # a recurrence found at follow-up
    S.CANCELLED: frozenset(),
}

# Where the engineer may act (progress, resolve) once the job is theirs.
WORKING = frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.WAITING_FOR_REPORTER, S.REOPENED})
OPEN = frozenset(set(S) - {S.CLOSED, S.CANCELLED, S.RESOLVED})


def can_move(current: S | str, target: S | str) -> bool:
    return S(target) in TRANSITIONS[S(current)]


async def move(
    tx: Tx, ticket: Ticket, target: S, now: Any, actor_id: int | None, **details: Any
) -> None:
    """Change status, or raise IllegalTransition; writes the audit event in the same step."""
    current = S(ticket.status)
    if not can_move(current, target):
        raise IllegalTransition(number=tickets.number(ticket.id or 0))
    logctx.ticket(ticket.id)  # the one place every status change passes: the ticket is named
    log.info("ticket status %s -> %s", current, target)
    ticket.status = str(target)
    ticket.updated_at = now
    tx.add(ticket)
    await tickets.add_event(
        tx, ticket, "status", now, actor_id, **{"from": str(current), "to": str(target)}, **details
    )
