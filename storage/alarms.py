"""Queries about monitored devices, alarm incidents, their alarm history and the people who
follow a ticket because they reported the same fault."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import pairwise
from typing import Literal

from sqlalchemy import func, select
from sqlmodel import col

from storage.models import (
    AlarmRecord,
    Device,
    Incident,
    IncidentState,
    Person,
    Role,
    TicketFollower,
)
from storage.uow import Tx

MAX_DEPTH = 5  # gateway → controller → sensor is three; a loop in the registry stops here


async def device(tx: Tx, device_id: str) -> Device | None:
    return await tx.get(Device, device_id) if device_id else None


async def ancestors(tx: Tx, dev: Device | None) -> list[str]:
    """The devices an alarm of `dev` may be explained by: its gateway, that one's, …"""
    out: list[str] = []
    while dev is not None and dev.parent and dev.parent not in out and len(out) < MAX_DEPTH:
        out.append(dev.parent)
        dev = await tx.get(Device, dev.parent)
    return out


async def children(tx: Tx, device_id: str) -> list[str]:
    """Every device behind `device_id`, however deep (bounded)."""
    found: list[str] = []
    frontier = [device_id]
    for _ in range(MAX_DEPTH):
        rows = await tx.scalars(select(col(Device.id)).where(col(Device.parent).in_(frontier)))
        frontier = [r for r in rows if r not in found and r != device_id]
        if not frontier:
            break
        found.extend(frontier)
    return found


async def open_incident(tx: Tx, key: str, *, lock: bool = True) -> Incident | None:
    stmt = select(Incident).where(col(Incident.open_key) == key)
    if lock:
        stmt = tx.lock(stmt)
    rows = await tx.scalars(stmt.execution_options(populate_existing=True))
    return rows[0] if rows else None


async def latest(tx: Tx, key: str) -> Incident | None:
    stmt = (select(Incident).where(col(Incident.key) == key)
            .order_by(col(Incident.id).desc()).limit(1))
    rows = await tx.scalars(tx.lock(stmt).execution_options(populate_existing=True))
    return rows[0] if rows else None


async def get(tx: Tx, incident_id: int, *, lock: bool = False) -> Incident | None:
    if not lock:
        return await tx.get(Incident, incident_id)
    stmt = select(Incident).where(col(Incident.id) == incident_id)
    rows = await tx.scalars(tx.lock(stmt).execution_options(populate_existing=True))
    return rows[0] if rows else None


async def get_unless_busy(tx: Tx, incident_id: int) -> Incident | Literal[False] | None:
    """The incident locked, None if there is none, False if another step holds it now.

    A timer batch holds its timer rows while it runs; an alarm step holds the incident and
    then wants its grace timer: waiting here would be the other half of a deadlock."""
    stmt = select(Incident).where(col(Incident.id) == incident_id)
    if tx.postgres:
        stmt = stmt.with_for_update(skip_locked=True)
    rows = await tx.scalars(stmt.execution_options(populate_existing=True))
    if rows:
        return rows[0]
    return False if await tx.get(Incident, incident_id) is not None else None


async def firing_on(tx: Tx, devices: Iterable[str]) -> Incident | None:
    """An open, firing incident of one of these devices that stands on its own (the
    nearest is the caller's first device)."""
    ids = list(devices)
    if not ids:
        return None
    stmt = select(Incident).where(
        col(Incident.device).in_(ids), col(Incident.state) == str(IncidentState.OPEN),
        col(Incident.firing), col(Incident.parent_id).is_(None),
    )
    rows = await tx.scalars(stmt)
    rows.sort(key=lambda i: ids.index(i.device))
    return rows[0] if rows else None


async def open_unpaged_of(tx: Tx, devices: Iterable[str]) -> list[Incident]:
    ids = list(devices)
    if not ids:
        return []
    stmt = select(Incident).where(
        col(Incident.device).in_(ids), col(Incident.state) == str(IncidentState.OPEN),
        col(Incident.parent_id).is_(None), col(Incident.ticket_id).is_(None),
    )
    return await tx.scalars(tx.lock(stmt))


async def attached(tx: Tx, incident_id: int) -> list[Incident]:
    stmt = select(Incident).where(col(Incident.parent_id) == incident_id).order_by(
        col(Incident.id))
    return await tx.scalars(stmt)


async def of_ticket(tx: Tx, ticket_id: int) -> Incident | None:
    stmt = select(Incident).where(col(Incident.ticket_id) == ticket_id).order_by(
        col(Incident.id)).limit(1)
    rows = await tx.scalars(stmt)
    return rows[0] if rows else None


async def open_at_site(tx: Tx, site: str) -> list[Incident]:
    """Open incidents that stand on their own, at this site or at no site in particular."""
    stmt = select(Incident).where(
        col(Incident.state) == str(IncidentState.OPEN), col(Incident.parent_id).is_(None),
        col(Incident.site).in_([site, ""]),
    ).order_by(col(Incident.id).desc()).limit(50)
    return await tx.scalars(stmt)


async def history(tx: Tx, incident_ids: Iterable[int], limit: int = 6) -> list[AlarmRecord]:
    ids = list(incident_ids)
    stmt = (select(AlarmRecord).where(col(AlarmRecord.incident_id).in_(ids))
            .order_by(col(AlarmRecord.at).desc(), col(AlarmRecord.id).desc()).limit(limit))
    return await tx.scalars(stmt)


async def refires_since(tx: Tx, incident_id: int, since: datetime) -> int:
    """Firing alarms recorded after a clear since `since`: the incident's recent flaps."""
    stmt = (select(col(AlarmRecord.firing)).where(col(AlarmRecord.incident_id) == incident_id,
                                             col(AlarmRecord.at) >= since)
            .order_by(col(AlarmRecord.at), col(AlarmRecord.id)).limit(500))
    states = await tx.scalars(stmt)
    return sum(1 for a, b in pairwise(states) if not a and b)


async def followers(tx: Tx, ticket_id: int) -> list[TicketFollower]:
    stmt = select(TicketFollower).where(col(TicketFollower.ticket_id) == ticket_id).order_by(
        col(TicketFollower.id))
    return await tx.scalars(stmt)


async def follow(tx: Tx, ticket_id: int, person_id: int, text: str, now: datetime) -> bool:
    """Add a follower; False when they already follow that ticket."""
    return bool(await tx.insert_ignore(
        TicketFollower, {"ticket_id": ticket_id, "person_id": person_id, "text": text, "at": now},
        ["ticket_id", "person_id"]))


async def counts(tx: Tx, since: datetime, until: datetime) -> tuple[int, int]:
    """Alarms received and incidents opened in [since, until)."""
    alarms = await tx.scalar(select(func.count()).select_from(AlarmRecord).where(
        col(AlarmRecord.received_at) >= since, col(AlarmRecord.received_at) < until))
    incidents = await tx.scalar(select(func.count()).select_from(Incident).where(
        col(Incident.received_at) >= since, col(Incident.received_at) < until))
    return int(alarms or 0), int(incidents or 0)


async def monitor_person(tx: Tx, now: datetime) -> Person:
    """The monitoring system as the reporter of the tickets it opens (made on first need)."""
    rows = await tx.scalars(select(Person).where(col(Person.role) == str(Role.MONITOR))
                            .order_by(col(Person.id)).limit(1))
    if rows:
        return rows[0]
    person = Person(name="监控系统", role=str(Role.MONITOR), created_at=now)
    tx.add(person)
    await tx.flush()
    return person


async def seen_device(tx: Tx, device_id: str, now: datetime) -> Device | None:
    """The registry's device, or a new row flagged as not registered (never dropped)."""
    if not device_id:
        return None
    dev = await tx.get(Device, device_id)
    if dev is None:
        dev = Device(id=device_id, registered=False, updated_at=now)
        tx.add(dev)
        await tx.flush()
    return dev
