"""What only grows is pruned by the daily `prune` job: idempotency records past their
retention and unknown people's idle conversations; registered people keep theirs, and the
messages-in counter never goes down."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import metrics
from storage import pruning
from storage.models import Conversation, SeenUpdate


async def seed(app, now) -> None:  # type: ignore[no-untyped-def]
    async with app.db.transaction() as tx:
        for i in range(3):
            tx.add(SeenUpdate(channel="web", update_id=f"old{i}", at=now - timedelta(days=8)))
        tx.add(SeenUpdate(channel="telegram", update_id="old", at=now - timedelta(days=8)))
        tx.add(SeenUpdate(channel="web", update_id="new", at=now - timedelta(days=1)))
        for user, idle in (("visitor-old", 31), ("visitor-new", 2), ("r1", 400)):
            tx.add(Conversation(channel="web" if user != "r1" else "fake", chat_id=user,
                                user_id=user, updated_at=now - timedelta(days=idle)))


async def rows(app):  # type: ignore[no-untyped-def]
    async with app.db.transaction() as tx:
        seen = {(s.channel, s.update_id) for s in await tx.scalars(select(SeenUpdate))}
        convs = {(c.channel, c.user_id) for c in await tx.scalars(select(Conversation))}
        tally = await pruning.pruned_updates(tx)
    return seen, convs, tally


async def messages_in(app) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """frontline_messages_in_total per channel, counted now (no scrape cache)."""
    async with app.db.transaction() as tx:
        found = await metrics.database_metrics(tx, app.clock.now())
    family = next(m for m in found if m.name == "frontline_messages_in")
    return {s.labels["channel"]: s.value for s in family.samples if s.name.endswith("_total")}


async def test_the_prune_job_deletes_old_records_and_idle_strangers_only(app, reporter):
    now = app.clock.now()
    await seed(app, now)
    before = await messages_in(app)
    assert before == {"web": 4.0, "telegram": 1.0}
    await app.jobs.run("prune")
    seen, convs, tally = await rows(app)
    assert ("web", "new") in seen and not {("web", "old0"), ("telegram", "old")} & seen
    assert tally == {"web": 3, "telegram": 1}
    assert ("web", "visitor-new") in convs and ("fake", "r1") in convs  # r1 registered
    assert ("web", "visitor-old") not in convs
    await app.jobs.run("prune")  # again the same day: nothing more goes
    assert (await rows(app))[2] == tally
    assert await messages_in(app) == before  # the counter did not go down


def test_the_prune_job_is_in_the_table_and_can_be_turned_off():
    from scheduler.jobs import table

    assert table("Asia/Shanghai", "", "", "03:30")["prune"].trigger is not None
    assert table("Asia/Shanghai", "", "", "")["prune"].trigger is None
