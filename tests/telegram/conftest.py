"""The fake Bot API server and a desk polling it, for every Telegram test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.bootstrap import Frontline
from tests.fakes.telegram_api import FakeBotApi
from tests.telegram.test_telegram import start_desk


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi()
    fake.url = await fake.start()  # type: ignore[attr-defined]
    yield fake
    await fake.close()


@pytest.fixture
async def polling(settings, api, clock) -> AsyncIterator[Frontline]:  # type: ignore[no-untyped-def]
    fl = await start_desk(settings, api, clock, "polling")
    yield fl
    await fl.stop()
