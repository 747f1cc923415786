"""In an alarm storm people still get their replies: alarms wait for a lane, chat does not."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.settings import Settings
from handlers.core.messages import Alarm


def alarm(n: int) -> Alarm:
    return Alarm(source="generic", event_id=f"lane-{n}", device=f"valve-{n:02d}", kind="offline",
                 firing=True, at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC), severity="critical")


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"alarm_lanes": 2})


def test_one_lane_unless_configured():
    assert Settings(channels="").alarm_lanes == 1  # measured best: docs/benchmarks.md


async def test_alarm_steps_beyond_the_lanes_wait_and_chat_goes_past_them(app, reporter,
                                                                         database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer: a step held open in its transaction holds chat too")
    assert app.desk.alarm_lane._value == 2  # FRONTLINE_ALARM_LANES=2
    inside, most = 0, 0
    release, full = asyncio.Event(), asyncio.Event()

    async def slow_step(ctx, item):  # type: ignore[no-untyped-def]
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        if inside == 2:
            full.set()
        await release.wait()
        inside -= 1

    app.desk.routes.entries["alarm"] = slow_step
    storm = [asyncio.create_task(app.desk.alarm(alarm(n))) for n in range(5)]
    try:
        await asyncio.wait_for(full.wait(), 30)  # two alarm steps hold both lanes

        replies = await reporter.says("/help")  # answered while the alarms wait
        assert replies and "/status" in replies[-1].text
        assert inside == 2
    finally:
        release.set()
    assert await asyncio.gather(*storm) == [True] * 5
    assert most == 2
