"""A batch of due timers on SQLite gives the one writer to a person between two timers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

import handlers.core.dispatch as dispatch
from bot.bootstrap import Frontline
from handlers.core.clock import FakeClock
from handlers.core.dispatch import TimerRunner
from scheduler.sweep import Sweeper
from storage import timers
from storage.models import Timer, TimerState


async def _settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


async def test_a_person_writes_between_two_timers_of_one_batch(
    app: Frontline, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if app.db.postgres:
        pytest.skip("PostgreSQL has no single writer to share")
    async with app.db.transaction() as tx:
        for n in range(3):
            await timers.schedule(tx, f"storm:{n}", "test_storm", clock.now() + timedelta(
                seconds=n))
    clock.advance(minutes=1)
    order: list[str] = []
    person: list[asyncio.Task[None]] = []

    async def reply() -> None:
        async with app.db.transaction():
            order.append("reply")

    async def fire(_routes: object, _ctx: object, timer: Timer) -> None:
        order.append(timer.key)
        if not person:  # a person's step arrives while the first timer writes
            person.append(asyncio.create_task(reply()))
            await _settle()

    monkeypatch.setattr(dispatch, "fire", fire)
    fired = await Sweeper(app.db, clock, TimerRunner(app.desk), worker_id="w").run_once()
    await person[0]

    assert order == ["storm:0", "reply", "storm:1", "storm:2"]
    assert fired == 3
    async with app.db.transaction() as tx:
        states = {t.key: t.state for t in await tx.scalars(select(Timer))}
    assert states == {f"storm:{n}": str(TimerState.DONE) for n in range(3)}
