"""Invitations and managers' approvals: the records behind who may open tickets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import col

from storage.models import Approval, Invitation
from storage.uow import Tx


async def add_invitation(
    tx: Tx, *, code_hash: str, site: str, uses: int, expires_at: datetime,
    created_by: int | None, now: datetime,
) -> Invitation:
    invitation = Invitation(code_hash=code_hash, site=site, uses_left=uses,
                            expires_at=expires_at, created_by=created_by, created_at=now)
    tx.add(invitation)
    await tx.flush()
    return invitation


async def usable_invitation(tx: Tx, code_hash: str, now: datetime) -> Invitation | None:
    """The invitation with this code, while it has uses left and has not expired."""
    stmt = select(Invitation).where(
        col(Invitation.code_hash) == code_hash, col(Invitation.uses_left) > 0,
        col(Invitation.expires_at) > now,
    )
    found = await tx.scalars(stmt)
    return found[0] if found else None


async def use_invitation(tx: Tx, invitation_id: int, now: datetime) -> bool:
    """Take one use of an invitation; False when it ran out or expired meanwhile (one
    statement, so two people redeeming the last use at once cannot both get it)."""
    stmt = (
        update(Invitation)
        .where(col(Invitation.id) == invitation_id, col(Invitation.uses_left) > 0,
               col(Invitation.expires_at) > now)
        .values(uses_left=col(Invitation.uses_left) - 1)
        .execution_options(synchronize_session=False)
    )
    result = await tx.execute(stmt)
    return bool(result.rowcount == 1)


async def approval_of(tx: Tx, person_id: int, *, lock: bool = False) -> Approval | None:
    stmt = select(Approval).where(col(Approval.person_id) == person_id)
    found = await tx.scalars(tx.lock(stmt) if lock else stmt)
    return found[0] if found else None
