"""One flooding chat cannot starve the others."""

from __future__ import annotations

from handlers.core.flood import FloodGuard
from handlers.core.messages import Kind


def test_a_burst_is_allowed_then_one_warning_then_silence_until_refilled():
    now = [0.0]
    guard = FloodGuard(rate=1.0, burst=3, clock=lambda: now[0])
    assert [guard.check("a") for _ in range(6)] == ["ok", "ok", "ok", "warn", "drop", "drop"]
    assert guard.check("b") == "ok"  # another person is not affected
    now[0] += 2
    assert [guard.check("a") for _ in range(3)] == ["ok", "ok", "warn"]


async def test_a_flooding_person_is_told_and_others_are_still_served(app, reporter, engineer):
    app.desk.flood = FloodGuard(rate=0.0001, burst=5)
    for _ in range(12):
        await reporter.send(reporter.incoming(Kind.COMMAND, text="/help"))
    replies = [m.text for m in reporter.inbox()]
    assert sum("热线" in t for t in replies) == 5
    assert sum("太快" in t for t in replies) == 1
    await engineer.says("/help")
    assert "热线" in engineer.last().text
