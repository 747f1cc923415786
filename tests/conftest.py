"""Shared fixtures: a real database (SQLite, and PostgreSQL when configured), the app, people."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.bootstrap import Frontline, build
from bot.settings import Settings
from handlers.core.clock import FakeClock
from handlers.flows import admission
from storage import people
from storage.models import Role
from tests.support.chat import ChatUser
from tests.support.fakes import FakeChannel, valve_kb

PG_URL = os.environ.get("FRONTLINE_TEST_DATABASE_URL", "")
# The product's default engine is the hybrid one (a sentence-embedding model loaded and the
# articles embedded at start). Flows are tested on fake knowledge bases and the lexical
# engine, so every process a test starts would pay for a model it never asks; the hybrid
# engine has its own tests (tests/kb, tests/bot/test_settings.py, tests/handlers).
os.environ.setdefault("FRONTLINE_KB_ENGINE", "lexical")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])


async def _clean_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        await _clean_postgres(PG_URL)
        return PG_URL
    return f"sqlite+aiosqlite:///{tmp_path / 'frontline.db'}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def channel() -> FakeChannel:
    return FakeChannel()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url, channels="", files_dir=tmp_path / "files",
        company_name="荔枝智慧果园", project_name="智慧果园运维服务",
        service_manager="陈经理", support_hotline="400-800-1234",
        outbox_retry_base_seconds=1.0,
        flood_burst=100_000,  # flows send many messages fast; tests/handlers/test_flood.py
    )


@pytest.fixture
async def app(
    settings: Settings, clock: FakeClock, channel: FakeChannel
) -> AsyncIterator[Frontline]:
    fl = await build(settings, clock=clock, channels={"fake": channel}, kb=valve_kb())
    await fl.start(schedule=False)
    yield fl
    await fl.stop()


class Cast:
    """The demo cast: a reporter, two engineers and a manager on the fake channel."""

    def __init__(self, fl: Frontline, channel: FakeChannel) -> None:
        self.fl, self.channel = fl, channel

    def user(self, user_id: str) -> ChatUser:
        return ChatUser(self.fl, self.channel, user_id)

    async def add(self, user_id: str, name: str, role: Role, **kw: object) -> ChatUser:
        async with self.fl.db.transaction() as tx:
            await people.add_person(tx, name=name, role=role, now=self.fl.clock.now(),
                                    identities={self.channel.name: user_id}, **kw)  # type: ignore[arg-type]
        return self.user(user_id)

    async def invitation(self, site: str = "一号园区", *, uses: int = 10, days: int = 7) -> str:
        """A manager's invitation code for a site (as `frontline people invite` makes one)."""
        async with self.fl.db.transaction() as tx:
            code, _ = await admission.invite(tx, self.fl.clock.now(), site, uses=uses, days=days)
        return code


@pytest.fixture
async def cast(app: Frontline, channel: FakeChannel) -> Cast:
    return Cast(app, channel)


@pytest.fixture
async def reporter(cast: Cast) -> ChatUser:
    return await cast.add("r1", "李明", Role.REPORTER, site="一号园区", phone="13800000001")


@pytest.fixture
async def engineer(cast: Cast) -> ChatUser:
    return await cast.add("e1", "张工", Role.ENGINEER, site="一号园区",
                          skills=["valve", "irrigation"], phone="13900000001")


@pytest.fixture
async def engineer2(cast: Cast) -> ChatUser:
    return await cast.add("e2", "王工", Role.ENGINEER, site="二号园区", skills=["network"])


@pytest.fixture
async def manager(cast: Cast) -> ChatUser:
    return await cast.add("m1", "陈经理", Role.MANAGER)
