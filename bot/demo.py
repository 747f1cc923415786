"""The demo cast: a reporter at an orchard site, two engineers and a service manager."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import col

from handlers.core.clock import Clock
from storage import people
from storage.models import ChatIdentity, Role
from storage.uow import Database


@dataclass(frozen=True)
class DemoPerson:
    web_id: str
    name: str
    role: Role
    site: str = ""
    skills: tuple[str, ...] = ()
    phone: str = ""


CAST = (
    DemoPerson("demo-reporter", "李明", Role.REPORTER, "一号园区", (), "13800000001"),
    DemoPerson("demo-engineer-1", "张工", Role.ENGINEER, "一号园区",
               ("valve", "irrigation", "pump", "fertigation", "filter"), "13900000001"),
    DemoPerson("demo-engineer-2", "王工", Role.ENGINEER, "二号园区",
               ("network", "camera", "power", "sensor", "weather", "pest", "platform"),
               "13900000002"),
    DemoPerson("demo-manager", "陈经理", Role.MANAGER, "", (), "13700000001"),
)


async def seed(db: Database, clock: Clock) -> int:
    """Add the demo people with web chat identities; those already there are kept."""
    added = 0
    async with db.transaction() as tx:
        for p in CAST:
            exists = await tx.scalars(
                select(ChatIdentity).where(
                    col(ChatIdentity.channel) == "web",
                    col(ChatIdentity.external_user_id) == p.web_id,
                )
            )
            if exists:
                continue
            await people.add_person(
                tx, name=p.name, role=p.role, site=p.site, skills=p.skills, phone=p.phone,
                now=clock.now(), identities={"web": p.web_id},
            )
            added += 1
    return added
