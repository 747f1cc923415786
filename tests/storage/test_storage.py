"""Storage: migrations match the models, claims are exclusive, the outbox deduplicates."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from storage import conversations, outbox, timers
from storage.models import Timer, TimerState


async def test_migrations_create_exactly_the_models_tables(app):
    def diff(conn):
        return compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)

    async with app.db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_sqlite_runs_in_wal_with_foreign_keys(app):
    if app.db.postgres:
        return
    async with app.db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_an_update_is_seen_once(app, clock):
    async with app.db.transaction() as tx:
        assert await conversations.mark_seen(tx, "fake", "1", clock.now())
        assert not await conversations.mark_seen(tx, "fake", "1", clock.now())
        assert await conversations.mark_seen(tx, "other", "1", clock.now())


async def test_opening_an_update_records_it_and_loads_its_conversation(app, clock):
    async with app.db.transaction() as tx:
        first = await conversations.open_update(tx, "fake", "u1", "c1", "p1", clock.now())
        assert first is not None
        conv, ident, person = first
        assert (conv.chat_id, conv.user_id, conv.state) == ("c1", "p1", "idle")
        assert ident is None and person is None  # not registered
    async with app.db.transaction() as tx:
        assert await conversations.open_update(tx, "fake", "u1", "c1", "p1", clock.now()) is None
        again = await conversations.open_update(tx, "fake", "u2", "c1", "p1", clock.now())
        assert again is not None and again[0].id == conv.id


async def test_two_copies_of_a_first_update_at_once_open_one_step(app, clock):
    """The second copy waits for the first (the id's unique index, or SQLite's one writer)
    and then finds the id taken, though it began before the conversation existed."""
    opened: list[bool] = []
    first_in = asyncio.Event()

    async def copy(wait: bool) -> None:
        async with app.db.transaction() as tx:
            if wait:
                await first_in.wait()
            got = await conversations.open_update(tx, "fake", "u9", "c9", "p9", clock.now())
            opened.append(got is not None)
            if not wait:
                first_in.set()
                await asyncio.sleep(0.2)  # hold the transaction while the other copy starts

    await asyncio.gather(copy(False), copy(True))
    assert opened == [True, False]


async def test_the_outbox_ignores_a_second_message_with_the_same_key(app, clock):
    payload = {"key": "k1", "channel": "fake", "chat_id": "c", "text": "hi", "buttons": []}
    async with app.db.transaction() as tx:
        assert await outbox.enqueue(tx, payload, clock.now())
        assert not await outbox.enqueue(tx, payload, clock.now())


async def test_rescheduling_a_timer_replaces_it(app, clock):
    async with app.db.transaction() as tx:
        await timers.schedule(tx, "followup:1", "followup", clock.now())
        await timers.schedule(tx, "followup:1", "followup", clock.now() + timedelta(hours=1))
        rows = await tx.scalars(__import__("sqlalchemy").select(Timer))
    assert len(rows) == 1 and rows[0].due_at == clock.now() + timedelta(hours=1)


async def test_concurrent_sweeps_claim_each_due_timer_once(app, clock):
    async with app.db.transaction() as tx:
        for i in range(30):
            await timers.schedule(tx, f"t:{i}", "test", clock.now() - timedelta(seconds=i))

    async def sweep(worker: str) -> list[int]:
        got: list[int] = []
        while True:
            async with app.db.transaction() as tx:
                ids = await timers.claim_due(tx, clock.now(), worker, timedelta(minutes=1), 7)
            if not ids:
                return got
            got += ids

    results = await asyncio.gather(*(sweep(f"w{i}") for i in range(3)))
    claimed = [i for r in results for i in r]
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 30


async def test_a_claim_whose_lease_expired_can_be_taken_over(app, clock):
    async with app.db.transaction() as tx:
        await timers.schedule(tx, "t:lease", "test", clock.now())
        first = await timers.claim_due(tx, clock.now(), "dead-replica", timedelta(minutes=1))
    async with app.db.transaction() as tx:
        assert await timers.claim_due(tx, clock.now(), "me", timedelta(minutes=1)) == []
    clock.advance(minutes=2)
    async with app.db.transaction() as tx:
        assert await timers.claim_due(tx, clock.now(), "me", timedelta(minutes=1)) == first


async def test_cancelled_timers_are_never_claimed(app, clock):
    async with app.db.transaction() as tx:
        await timers.schedule(tx, "t:c", "test", clock.now())
        await timers.cancel(tx, "t:c")
        assert await timers.claim_due(tx, clock.now(), "me", timedelta(minutes=1)) == []
        row = (await tx.scalars(__import__("sqlalchemy").select(Timer)))[0]
    assert row.state == TimerState.CANCELLED
