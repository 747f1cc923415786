"""`move`: the only way a ticket's status changes, with its audit event in the same step."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from handlers.core import logctx
from handlers.core.errors import IllegalTransition
from handlers.rules.lifecycle import can_move
from storage import tickets
from storage.models import Ticket, TicketStatus
from storage.uow import Tx

log = logging.getLogger(__name__)
STATUS_EVENT = "status"  # the event kind every move writes (reports and histories read it)


async def move(
    tx: Tx, ticket: Ticket, target: TicketStatus, now: datetime, actor_id: int | None,
    **details: Any,
) -> None:
    """Change status, or raise IllegalTransition."""
    current = TicketStatus(ticket.status)
    if not can_move(current, target):
        raise IllegalTransition(number=tickets.number(ticket.id or 0))
    logctx.ticket(ticket.id)  # the one place every status change passes: the ticket is named
    log.info("ticket status %s -> %s", current, target)
    ticket.status = str(target)
    ticket.updated_at = now
    tx.add(ticket)
    await tickets.add_event(
        tx, ticket, STATUS_EVENT, now, actor_id, **{"from": str(current), "to": str(target)},
        **details,
    )
