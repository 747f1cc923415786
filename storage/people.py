"""Queries about people and their chat identities."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlmodel import col

from storage import sites
from storage.models import ChatIdentity, Person, Role, Ticket, TicketStatus
from storage.uow import Tx

OPEN_STATES = (
    TicketStatus.NEW,
    TicketStatus.PAGED,
    TicketStatus.ACKNOWLEDGED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING_FOR_REPORTER,
    TicketStatus.REOPENED,
)
# `status IN (…)` of a constant list is re-rendered on every run (an "expanding" parameter);
# the same test as ORs of equalities compiles once and stays in the statement cache.
IS_OPEN = or_(*(col(Ticket.status) == str(s) for s in OPEN_STATES))


async def identities_of(tx: Tx, person_id: int) -> list[ChatIdentity]:
    stmt = select(ChatIdentity).where(col(ChatIdentity.person_id) == person_id).order_by(
        col(ChatIdentity.id)
    )
    return await tx.scalars(stmt)


async def add_person(
    tx: Tx,
    *,
    name: str,
    role: Role | str,
    now: datetime,
    site: str = "",
    skills: Iterable[str] = (),
    phone: str = "",
    language: str = "zh",
    identities: dict[str, str] | None = None,
    approved: bool = True,
    scope: Iterable[str] = (),
    title: str = "",
) -> Person:
    """Create a person with identities {channel: external user id} (chat id = user id)."""
    person = Person(
        name=name, role=str(Role(role)), site=site, skills=list(skills), phone=phone,
        language=language, created_at=now, approved=approved, scope=list(scope), title=title,
    )
    tx.add(person)
    await tx.flush()
    tx.memo.clear()
    for channel, user_id in (identities or {}).items():
        await link_identity(tx, person, channel, user_id, user_id)
    return person


async def link_identity(
    tx: Tx, person: Person, channel: str, external_user_id: str, chat_id: str
) -> ChatIdentity:
    assert person.id is not None
    ident = ChatIdentity(
        person_id=person.id, channel=channel, external_user_id=external_user_id, chat_id=chat_id
    )
    tx.add(ident)
    await tx.flush()
    return ident


async def people(tx: Tx, role: Role | None = None) -> list[Person]:
    stmt = select(Person).where(col(Person.active)).order_by(col(Person.id))
    if role is not None:
        stmt = stmt.where(col(Person.role) == str(role))
    return await tx.scalars(stmt)


async def people_with_roles(tx: Tx, roles: Iterable[Role]) -> list[Person]:
    """Active people with these roles; memoised for the transaction (a burst of timers asks
    for the managers a thousand times)."""
    key = ("people_with_roles", tuple(sorted(str(r) for r in roles)))
    if key not in tx.memo:
        tx.memo[key] = await _people_with_roles(tx, roles)
    return list(tx.memo[key])


async def _people_with_roles(tx: Tx, roles: Iterable[Role]) -> list[Person]:
    stmt = (
        select(Person)
        .where(col(Person.active), col(Person.role).in_([str(r) for r in roles]))
        .order_by(col(Person.id))
    )
    return await tx.scalars(stmt)


async def managers_for(tx: Tx, site: str) -> list[Person]:
    """The service managers (coordinators are managers by role) whose scope covers `site`:
    theirs by name, or every site. When none does (a site nobody was given, a ticket with no
    site), every manager: a notice nobody receives is worse than one too many."""
    managers = await people_with_roles(tx, (Role.MANAGER,))
    covering = [m for m in managers if sites.covers(m.scope or (), site)]
    return covering or managers


async def open_job_counts(tx: Tx, person_ids: list[int]) -> dict[int, int]:
    """How many open tickets each of these people holds (for fair routing)."""
    if not person_ids:
        return {}
    stmt = (
        select(col(Ticket.assignee_id), func.count())
        .where(
            col(Ticket.assignee_id).in_(person_ids),
            IS_OPEN,
        )
        .group_by(col(Ticket.assignee_id))
    )
    rows = (await tx.execute(stmt)).all()
    return {pid: count for pid, count in rows}
