"""Fixtures for the reporting tests: the October history, seeded into the app's database."""

from __future__ import annotations

import pytest

from handlers.flows.reporting import figures, period
from tests.reporting.history import seed, utc

NOW = utc(11, 23, 1)


@pytest.fixture
async def history(app) -> dict[str, int]:
    return await seed(app.db)


@pytest.fixture
async def october(app, history) -> figures.Figures:
    async with app.db.transaction() as tx:
        return await figures.compute(tx, period.parse("2026-10", "Asia/Shanghai"), NOW)
