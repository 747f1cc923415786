"""Writing the device registry (handlers/rules/devices.py reads and checks it) to the
database, and watching the devices that must send heartbeats."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields

from handlers.core.context import Ctx
from handlers.flows.alarms.incidents import watch
from handlers.rules.devices import DeviceRow
from storage import alarms
from storage.models import Device


async def store(ctx: Ctx, rows: list[DeviceRow],
                progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Write the rows (new devices added, known ones updated, flagged ones now registered);
    devices with a heartbeat are watched from now. Returns (added, updated)."""
    added = updated = 0
    for n, row in enumerate(rows, start=1):
        dev = await alarms.device(ctx.tx, row.id)
        if dev is None:
            dev = Device(id=row.id, updated_at=ctx.now)
            added += 1
        else:
            updated += 1
        for f in fields(DeviceRow):
            setattr(dev, f.name, getattr(row, f.name))
        dev.registered, dev.updated_at = True, ctx.now
        ctx.tx.add(dev)
        if dev.heartbeat_minutes:
            await watch(ctx, dev, dev.last_heartbeat or ctx.now)
        if progress is not None:
            progress(n)
    return added, updated
