"""Pooled PostgreSQL connections: dead ones are replaced at checkout, without a ping per
transaction (pool_pre_ping would cost BEGIN; ROLLBACK on every checkout)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from storage import engine as engine_module
from storage.engine import make_engine
from tests.conftest import PG_URL
from tests.fakes.tcp_proxy import CuttableProxy

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs FRONTLINE_TEST_DATABASE_URL")


async def one(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        return int((await conn.execute(text("SELECT 1"))).scalar())


def statements(engine) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, stmt, *_: seen.append(stmt))
    return seen


async def test_a_busy_connection_is_reused_without_a_ping():
    engine = make_engine(PG_URL)
    pings = 0
    original = engine.dialect.do_ping

    def counting(dbapi_connection):  # type: ignore[no-untyped-def]
        nonlocal pings
        pings += 1
        return original(dbapi_connection)

    engine.dialect.do_ping = counting  # type: ignore[method-assign]
    try:
        for _ in range(5):
            assert await one(engine) == 1
        assert pings == 0
    finally:
        await engine.dispose()


async def test_connections_dropped_while_pooled_are_replaced_without_an_error():
    pg = make_url(PG_URL)
    proxy = CuttableProxy(pg.host or "127.0.0.1", pg.port or 5432)
    port = await proxy.start()
    engine = make_engine(pg.set(port=port).render_as_string(hide_password=False))
    try:
        assert await one(engine) == 1
        await proxy.cut()  # every open connection is dropped, as by a restart
        await proxy.restore()
        await asyncio.sleep(0.05)  # the driver reads the EOF
        assert await one(engine) == 1  # no error reaches the caller
    finally:
        await engine.dispose()
        await proxy.cut()


async def test_a_connection_idle_too_long_is_pinged_and_replaced_if_it_fails(monkeypatch):
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = make_engine(PG_URL)
    failures = 1

    def flaky(dbapi_connection):  # type: ignore[no-untyped-def]
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionError("no answer")
        return True

    try:
        assert await one(engine) == 1
        engine.dialect.do_ping = flaky  # type: ignore[method-assign]
        seen = statements(engine)
        assert await one(engine) == 1
        assert failures == 0 and seen == ["SELECT 1"]
        assert engine.sync_engine.pool.checkedin() == 1  # the silent one was thrown away
    finally:
        await engine.dispose()
