"""A replayed alarm: answered from memory when this process handled it, else by the database."""

from __future__ import annotations

from sqlalchemy import event

from handlers.core.messages import Heartbeat
from handlers.core.recent import RecentIds
from storage.models import AlarmRecord, Incident
from tests.handlers.test_alarms import alarm, fire, load_registry, rows


async def test_a_replay_handled_here_costs_no_statement(app, clock):
    await load_registry(app)
    first = alarm(app, "gw-01", event_id="am-77")
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    assert await fire(app, first) == [True]
    event.listen(app.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        assert [await app.desk.alarm(first), await app.desk.alarm(first)] == [False, False]
        assert statements == []
        beat = Heartbeat(source="generic", event_id="hb-1", device="gw-01", at=clock.now())
        assert await app.desk.alarm(beat) is True
        assert statements  # a new event goes to the database
        statements.clear()
        assert await app.desk.alarm(beat) is False
        assert statements == []
    finally:
        event.remove(app.db.engine.sync_engine, "before_cursor_execute", count)

    assert len(await rows(app, AlarmRecord)) == 1 and len(await rows(app, Incident)) == 1


async def test_a_replay_after_a_restart_is_known_to_the_database(app, clock):
    await load_registry(app)
    first = alarm(app, "gw-01", event_id="am-78")
    assert await fire(app, first) == [True]
    app.desk.recent_alarms = RecentIds()  # a new process remembers nothing

    assert await fire(app, first) == [False]
    assert ("alarm", "am-78") in app.desk.recent_alarms
    assert len(await rows(app, AlarmRecord)) == 1


def test_recent_ids_forget_the_oldest_first():
    recent = RecentIds(size=2)
    for key in ("a", "b", "a", "c"):
        recent.add(key)
    assert "a" in recent and "c" in recent and "b" not in recent and len(recent) == 2
