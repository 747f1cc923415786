"""Three `frontline run` processes on one PostgreSQL behind a round-robin forwarder.

Shows: every update handled exactly once (each is delivered twice, to different replicas);
a conversation continues whichever replica takes the next message; every timer fires exactly
once (all replicas sweep); no outgoing message is sent twice or lost.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from storage.engine import make_engine
from tests.conftest import PG_URL, _clean_postgres
from tests.fakes.telegram_api import FakeBotApi
from tests.support.cluster import SECRET, Cluster, forwarder, seed, wait_healthy

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs FRONTLINE_TEST_DATABASE_URL")
REPORTERS, REPLICAS = 12, 3
POLICY = """
name = "fast"
[priority.P1]
response_hours = 1
resolve_hours = 2
ack_timeout_minutes = 0.05
[priority.P2]
response_hours = 1
resolve_hours = 2
ack_timeout_minutes = 0.05
[priority.P3]
response_hours = 1
resolve_hours = 2
ack_timeout_minutes = 0.05
[priority.P4]
response_hours = 1
resolve_hours = 2
ack_timeout_minutes = 0.05
"""


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[FakeBotApi, str, Cluster]]:
    api = FakeBotApi()
    api_url = await api.start()
    await _clean_postgres(PG_URL)
    await seed(PG_URL, REPORTERS)
    c = Cluster(api_url, api.token, tmp_path, url=PG_URL, replicas=REPLICAS, policy=POLICY,
                FRONTLINE_CLAIM_LEASE_SECONDS="3")  # a killed replica's claims, taken over fast
    for i in range(REPLICAS):
        c.start(i)
    await wait_healthy(c.backends, [p for p in c.procs if p], tmp_path)
    runner, lb = await forwarder(c.backends)
    try:
        yield api, lb, c
    finally:
        await runner.cleanup()
        c.stop_all()
        await api.close()


async def settled(within: float = 60) -> None:
    """Until no due timer is pending and the outbox is empty: everything has happened."""
    from sqlalchemy import text

    engine = make_engine(PG_URL)
    try:
        for _ in range(int(within * 4)):
            async with engine.connect() as conn:
                busy = (await conn.execute(text(
                    "SELECT (SELECT count(*) FROM timer WHERE state = 'pending' "
                    "AND due_at <= now()) + (SELECT count(*) FROM outbox "
                    "WHERE state = 'pending')"))).scalar()
            if not busy:
                return
            await asyncio.sleep(0.25)  # polling the database, not waiting out a timer
    finally:
        await engine.dispose()
    raise AssertionError("timers or messages still pending")


async def ack_timeouts_per_page() -> list[int]:
    """How often each page's ack timeout fired (one row per ticket and engineer paged)."""
    from sqlalchemy import text

    engine = make_engine(PG_URL)
    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT count(*) FROM ticketevent WHERE kind = 'ack_timeout' "
            "GROUP BY ticket_id, details->>'engineer_id'"))).scalars().all()
    await engine.dispose()
    return list(rows)


def button(api: FakeBotApi, chat: int, label: str) -> str:
    for params in reversed(api.sent_to(chat)):
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
            for b in row:
                if b["text"] == label:
                    return str(b["callback_data"])
    raise AssertionError(f"no {label!r} for {chat}: {api.texts_to(chat)}")


async def test_three_replicas_handle_each_update_and_timer_exactly_once(cluster):
    api, lb, _ = cluster
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async with aiohttp.ClientSession() as s:
        async def deliver_twice(update: dict) -> None:  # type: ignore[type-arg]
            for _ in range(2):  # the platform retries: another replica gets it again
                async with s.post(f"{lb}/telegram/webhook", json=update, headers=headers) as r:
                    assert r.status == 200

        async def step(chat: int, update: dict, expect: str) -> None:  # type: ignore[type-arg]
            await deliver_twice(update)
            await api.wait_for(lambda: any(expect in t for t in api.texts_to(chat)), within=60)

        async def report(r: int) -> None:
            chat = 5000 + r
            await step(chat, api.say(chat, f"r{r}", f"{r}号地块电磁阀打不开"), "问题解决了吗")
            await step(chat, api.press(chat, "x", button(api, chat, "没解决，报修")), "影响范围")
            await step(chat, api.press(chat, "x", button(api, chat, "单个设备")), "请确认")
            await step(chat, api.press(chat, "x", button(api, chat, "确认提交")), "已登记工单")

        await asyncio.gather(*(report(r) for r in range(REPORTERS)))

    # every reporter: exactly one reply per step, exactly one ticket
    for r in range(REPORTERS):
        texts = api.texts_to(5000 + r)
        assert len(texts) == 4, texts
        assert sum("已登记工单" in t for t in texts) == 1
    # the ack timeout (3 s) fires once per ticket, on whichever replica: e2 is paged once each
    await api.wait_for(lambda: len(api.texts_to(7002)) >= REPORTERS, within=60)
    await settled()
    pages = collections.Counter(t.split()[0] for t in api.texts_to(7002) if "新工单" in t)
    assert len(pages) == REPORTERS and set(pages.values()) == {1}
    sent = collections.Counter((c.params.get("chat_id"), c.params.get("text"))
                               for c in api.calls if c.method == "sendMessage")
    assert [k for k, n in sent.items() if n > 1] == []  # nothing sent twice


async def test_a_replica_killed_mid_flow_and_restarted_loses_nothing(cluster, tmp_path):
    api, lb, c = cluster
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async with aiohttp.ClientSession() as s:
        async def deliver(update: dict) -> None:  # type: ignore[type-arg]
            """The platform: retried until a replica accepts it (a dead one answers 502)."""
            for _ in range(30):
                async with s.post(f"{lb}/telegram/webhook", json=update, headers=headers) as r:
                    if r.status == 200:
                        return
            raise AssertionError("no replica accepted the update")

        async def step(chat: int, update: dict, expect: str) -> None:  # type: ignore[type-arg]
            await deliver(update)
            await api.wait_for(lambda: any(expect in t for t in api.texts_to(chat)), within=60)

        async def begin(r: int) -> None:
            chat = 5000 + r
            await step(chat, api.say(chat, f"r{r}", f"{r}号地块电磁阀打不开"), "问题解决了吗")
            await step(chat, api.press(chat, "x", button(api, chat, "没解决，报修")), "影响范围")

        async def finish(r: int) -> None:
            chat = 5000 + r
            await step(chat, api.press(chat, "x", button(api, chat, "单个设备")), "请确认")
            await step(chat, api.press(chat, "x", button(api, chat, "确认提交")), "已登记工单")

        half = REPORTERS // 2
        await asyncio.gather(*(begin(r) for r in range(half)))
        kill = asyncio.create_task(asyncio.to_thread(c.kill, 0))  # in the middle of traffic
        await asyncio.gather(*(finish(r) for r in range(half)),
                             *(begin(r) for r in range(half, REPORTERS)))
        await kill
        c.start(0)
        await wait_healthy(c.backends, [p for p in c.procs if p], tmp_path)
        await asyncio.gather(*(finish(r) for r in range(half, REPORTERS)))

    for r in range(REPORTERS):
        texts = api.texts_to(5000 + r)
        # Every reply arrived. Delivery is at-least-once: each message the killed replica had
        # sent but not yet marked (marks are group-committed, so a chat that got two replies
        # from it in that moment has two) goes out again after the lease — once, no more.
        counts = collections.Counter(texts)
        assert len(counts) == 4 and max(counts.values()) <= 2, texts
        assert sum("已登记工单" in t for t in set(texts)) == 1
    await api.wait_for(lambda: len(api.texts_to(7002)) >= REPORTERS, within=60)
    await settled()  # a timer the dead replica held is fired by another after the lease
    fired = await ack_timeouts_per_page()
    assert len(fired) >= REPORTERS and set(fired) == {1}  # each timer fired exactly once
    pages = {t.split()[0] for t in api.texts_to(7002) if "新工单" in t}
    assert len(pages) == REPORTERS  # and every second page reached the engineer
