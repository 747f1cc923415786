"""When a person can no longer be reached (they blocked the bot), nothing stops: the tickets go
on, and if they were holding jobs the service managers are told so they can reassign them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from handlers.context import Ctx
from handlers.jobs import tell_managers
from storage import tickets
from storage.models import ChatIdentity, Person


async def lost(ctx: Ctx, channel: str, chat_id: str) -> None:
    stmt = select(Person).join(ChatIdentity, col(ChatIdentity.person_id) == col(Person.id)) \
        .where(col(ChatIdentity.channel) == channel, col(ChatIdentity.chat_id) == chat_id)
    for person in await ctx.tx.scalars(stmt):
        for ticket in await tickets.open_tickets(ctx.tx, assignee_id=person.id):
            await tickets.add_event(ctx.tx, ticket, "assignee_unreachable", ctx.now, person.id,
                                    channel=channel)
            await tell_managers(ctx, "manager.assignee_unreachable", ticket, name=person.name)
