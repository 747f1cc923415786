"""Web chat on three `frontline run` processes sharing one PostgreSQL.

A person's tab is open on replica A; they write through their tabs on B and C in turn (the
conversation continues whichever replica takes the message), the engineer works on B and C.
Every reply reaches the tab on A exactly once and in order, whichever replica delivered it
(LISTEN/NOTIFY fan-out, bot/webchat_fanout.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from bot import demo
from handlers.core.clock import SystemClock
from storage import migrate
from storage.engine import make_engine
from storage.uow import Database
from tests.conftest import PG_URL, _clean_postgres
from tests.support.cluster import Cluster, wait_healthy

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs FRONTLINE_TEST_DATABASE_URL")
REPLICAS = 3
WAIT = 60.0  # bounded wait for one reply (three processes on a busy 2-core machine)
Frame = dict[str, Any]


class Tab:
    """A browser tab on one replica: reads every frame in the background."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, where: str) -> None:
        self.ws, self.where = ws, where
        self.frames: list[Frame] = []
        self._more = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.frames.append(msg.json())
                self._more.set()

    async def until(self, seen: Callable[[list[Frame]], bool], what: str) -> None:
        async def wait() -> None:
            while not seen(self.frames):
                self._more.clear()
                await self._more.wait()

        try:
            await asyncio.wait_for(wait(), WAIT)
        except TimeoutError:
            texts = [f.get("text") for f in self.frames]
            raise AssertionError(f"tab on {self.where} never got {what!r}: {texts}") from None

    async def says(self, words: str) -> None:
        await self.ws.send_json({"type": "text", "text": words, "id": uuid.uuid4().hex})

    async def presses(self, label: str) -> None:
        """The newest button with this label this tab shows (as the page would)."""
        for f in reversed(self.frames):
            for row in f.get("buttons") or []:
                for b in row:
                    if b["label"] == label:
                        await self.ws.send_json({"type": "button", "data": b["data"],
                                                 "id": uuid.uuid4().hex})
                        return
        raise AssertionError(f"no button {label!r} on {self.where}")

    def messages(self) -> list[Frame]:
        return [f for f in self.frames if f["type"] == "message"]

    def shown(self) -> list[str]:
        """Keys of the bot's messages on the page: history on connect, then each pushed."""
        keys: list[str] = []
        for f in self.frames:
            keys += [m["key"] for m in f["messages"]] if f["type"] == "history" else []
            keys += [f["key"]] if f["type"] == "message" else []
        return keys

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


def showing(words: str) -> Callable[[list[Frame]], bool]:
    return lambda frames: any(f["type"] == "message" and words in f["text"] for f in frames)


async def seed_demo(url: str) -> None:
    db = Database(make_engine(url))
    await migrate.upgrade(db.engine)
    await demo.seed(db, SystemClock())
    await db.dispose()


@pytest.fixture
async def web_cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    await _clean_postgres(PG_URL)
    await seed_demo(PG_URL)
    c = Cluster("http://127.0.0.1:9", "0:unused", tmp_path, url=PG_URL, replicas=REPLICAS,
                FRONTLINE_CHANNELS="web", FRONTLINE_WEBCHAT_DEMO="true",
                FRONTLINE_WEBCHAT_COOKIE_SECRET="replica-cookie-secret")
    for i in range(REPLICAS):
        c.start(i)
    try:
        await wait_healthy(c.backends, [p for p in c.procs if p], tmp_path)
        await listening(c.backends)
        yield c
    finally:
        c.stop_all()


async def listening(backends: list[str]) -> None:
    """Until every replica's /healthz says its web chat listener is up."""
    async with aiohttp.ClientSession() as s:
        for _ in range(int(WAIT * 10)):
            states = []
            for url in backends:
                async with s.get(f"{url}/healthz") as r:
                    states.append((await r.json())["channels"]["web"])
            if all("fan-out listening" in st for st in states):
                return
            await asyncio.sleep(0.1)  # polling the replicas, not waiting out a timer
    raise AssertionError(f"web chat listeners not up: {states}")


async def reporter_outbox() -> list[tuple[str, str, str]]:
    """The reporter's messages (not edits) in outbox order: key, state, who delivered it."""
    engine = make_engine(PG_URL)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT dedup_key, state, coalesce(claimed_by, '') FROM outbox "
                "WHERE channel = 'web' AND chat_id = 'demo-reporter' "
                "AND payload->>'edits' IS NULL ORDER BY id"))).all()
    finally:
        await engine.dispose()
    return [(r[0], r[1], r[2]) for r in rows]


async def test_a_tab_on_one_replica_gets_every_reply_once_and_in_order(web_cluster):
    a, b, c = web_cluster.backends
    async with aiohttp.ClientSession() as s:
        async def tab(base: str, user: str) -> Tab:
            t = Tab(await s.ws_connect(f"{base}/ws?user={user}"), base)
            await t.until(lambda frames: any(f["type"] == "history" for f in frames), "history")
            return t

        watch = await tab(a, "demo-reporter")  # only reads
        on_b, on_c = await tab(b, "demo-reporter"), await tab(c, "demo-reporter")
        eng_b, eng_c = await tab(b, "demo-engineer-1"), await tab(c, "demo-engineer-1")
        try:
            await on_b.says("3号地块电磁阀打不开")
            await watch.until(showing("问题解决了吗"), "问题解决了吗")
            await on_c.until(showing("问题解决了吗"), "问题解决了吗")
            await on_c.presses("没解决，报修")
            await watch.until(showing("影响范围"), "影响范围")
            await on_b.until(showing("影响范围"), "影响范围")
            await on_b.presses("单个设备")
            await watch.until(showing("请确认"), "请确认")
            await on_c.until(showing("请确认"), "请确认")
            await on_c.presses("确认提交")
            await watch.until(showing("已登记工单"), "已登记工单")

            await eng_b.until(showing("【新工单】"), "【新工单】")
            await eng_b.presses("接单")
            await watch.until(showing("已接下您的工单"), "已接下您的工单")
            await eng_c.until(showing("请随时更新进度"), "请随时更新进度")
            await eng_c.presses("出发去现场")
            await watch.until(showing("正在赶往现场"), "正在赶往现场")
            await on_b.says("/status")
            await watch.until(showing("FL-000001"), "/status")

            # Whatever is still queued for the reporter goes out; then A has shown exactly
            # the outbox, once each, in the outbox's order.
            for _ in range(int(WAIT * 10)):
                rows = await reporter_outbox()
                if all(state == "sent" for _, state, _ in rows) and \
                        len(watch.shown()) >= len(rows):
                    break
                await asyncio.sleep(0.1)  # polling the database, not waiting out a timer
            shown = watch.shown()
            assert shown == [key for key, _, _ in rows]
            assert len(shown) == len(set(shown)) >= 7
            assert len({by for _, _, by in rows}) >= 2  # delivered by more than one replica
            for other in (on_b, on_c):  # the tabs that wrote saw the same, once each
                assert other.shown() == shown
        finally:
            for t in (watch, on_b, on_c, eng_b, eng_c):
                await t.close()
