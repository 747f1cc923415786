"""Web chat fan-out: two WebChat instances ("replicas") on one PostgreSQL, tabs over aiohttp.

Also, without PostgreSQL: a tab's de-duplication and the frames held back while its history
loads, and that SQLite gets no fan-out at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import make_url

from bot.bootstrap import build
from bot.settings import Settings
from bot.webchat import WebChat, WebUser, frame
from bot.webchat_fanout import MAX_NOTIFY_BYTES, PgFanout, asyncpg_dsn, encode
from bot.webchat_wiring import apply_edits
from handlers.core.clock import SystemClock
from handlers.core.messages import Button, Incoming, Outgoing
from storage import migrate, outbox
from storage.engine import make_engine
from storage.uow import Database
from tests.conftest import PG_URL, _clean_postgres
from tests.fakes.tcp_proxy import CuttableProxy

needs_pg = pytest.mark.skipif(not PG_URL, reason="needs FRONTLINE_TEST_DATABASE_URL")
PEOPLE = [WebUser("demo-reporter", "李明", "reporter", "一号园区")]
WAIT = 15.0  # bounded waits: a frame, a reconnect


async def _nobody(_inc: Incoming) -> None:
    return None


async def _people() -> list[WebUser]:
    return PEOPLE


class Replica:
    """A WebChat with its own engine, fan-out and HTTP server: what one process holds."""

    def __init__(self, url: str, listen_dsn: str | None = None) -> None:
        self.db = Database(make_engine(url))
        self.fanout = PgFanout(listen_dsn or asyncpg_dsn(url), self.db)
        self.chat = WebChat(receive=_nobody, history=self.history, directory=_people,
                            texts=lambda lang: {}, demo=True, cookie_secret="s",
                            fanout=self.fanout)
        app = web.Application()
        self.chat.attach(app)
        self.client = TestClient(TestServer(app))

    async def history(self, chat_id: str) -> list[dict[str, Any]]:
        async with self.db.transaction() as tx:
            rows = await outbox.history(tx, "web", chat_id)
        return [frame(m) for m in apply_edits([Outgoing.from_json(r.payload) for r in rows])]

    async def start(self) -> None:
        await self.client.start_server()
        await self.chat.start()
        await self.fanout.wait_listening(WAIT)

    async def close(self) -> None:
        await self.chat.stop()
        await self.client.close()
        await self.db.dispose()


async def queued(db: Database, out: Outgoing) -> Outgoing:
    """In the outbox, as the desk would have written it (history and large notes read it)."""
    async with db.transaction() as tx:
        await outbox.enqueue(tx, out.to_json(), SystemClock().now())
    return out


class Tab:
    """A browser tab: every frame it got, in order."""

    def __init__(self, ws) -> None:  # type: ignore[no-untyped-def]
        self.ws = ws
        self.frames: list[dict] = []  # type: ignore[type-arg]

    async def until(self, seen: Callable[[list[dict]], bool]) -> None:  # type: ignore[type-arg]
        async def read() -> None:
            while not seen(self.frames):
                self.frames.append(await self.ws.receive_json())

        await asyncio.wait_for(read(), WAIT)

    def messages(self) -> list[str]:
        return [f["key"] for f in self.frames if f["type"] == "message"]

    def got(self, key: str) -> Callable[[list[dict]], bool]:  # type: ignore[type-arg]
        return lambda frames: any(f.get("key") == key and f["type"] == "message"
                                  for f in frames)


async def open_tab(replica: Replica, user: str = "demo-reporter") -> Tab:
    tab = Tab(await replica.client.ws_connect(f"/ws?user={user}"))
    await tab.until(lambda frames: any(f["type"] == "history" for f in frames))
    return tab


@pytest.fixture
async def two() -> AsyncIterator[tuple[Replica, Replica]]:
    await _clean_postgres(PG_URL)
    engine = make_engine(PG_URL)
    await migrate.upgrade(engine)
    await engine.dispose()
    a, b = Replica(PG_URL), Replica(PG_URL)
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


def out(key: str, text: str = "", **kw: object) -> Outgoing:
    return Outgoing("web", "demo-reporter", text or f"消息 {key}", key, **kw)  # type: ignore[arg-type]


@needs_pg
async def test_a_message_sent_by_one_replica_reaches_the_other_replicas_tab_once(two):
    a, b = two
    tab_a, tab_b = await open_tab(a), await open_tab(b)
    m1 = await queued(b.db, out("k1", buttons=((Button("催单", "t:1:urge"),),)))
    assert await b.chat.send(m1) == "k1"
    await b.chat.send(m1)  # a retried delivery
    await a.chat.send(m1)  # and another replica delivering it too
    m2 = await queued(b.db, out("k2"))
    await b.chat.send(m2)
    for tab in (tab_a, tab_b):
        await tab.until(tab.got("k2"))
        assert tab.messages() == ["k1", "k2"]  # once each, in order
    first = next(f for f in tab_a.frames if f.get("key") == "k1")
    assert first["buttons"][0][0] == {"label": "催单", "data": "t:1:urge"}
    assert "fan-out listening" in a.chat.status() and "(1 tabs)" in a.chat.status()


@needs_pg
async def test_an_edit_made_on_one_replica_shows_on_the_others_tab(two):
    a, b = two
    tab_a = await open_tab(a)
    page = await queued(b.db, out("p1", "【新工单】", buttons=((Button("接单", "t:1:ack"),),)))
    await b.chat.send(page)
    edit = await queued(b.db, out("p2", "【已接单】", edits="p1"))
    await b.chat.edit(edit, "p1")
    await tab_a.until(lambda frames: any(f["type"] == "edit" for f in frames))
    got = [f for f in tab_a.frames if f["type"] == "edit"]
    assert got == [{"type": "edit", "key": "p1", "text": "【已接单】", "buttons": [],
                    "group": ""}]


@needs_pg
async def test_a_message_too_big_for_notify_is_loaded_from_the_outbox(two):
    a, b = two
    tab_a = await open_tab(a)
    big = await queued(b.db, out("big", "很长的报告。" * 1000))
    assert "\"k\":\"big\"" in encode("x", big, None)  # only the key travels
    assert len("很长的报告。" * 1000) * 3 > MAX_NOTIFY_BYTES
    await b.chat.send(big)
    await tab_a.until(tab_a.got("big"))
    assert next(f for f in tab_a.frames if f.get("key") == "big")["text"] == big.text


@needs_pg
async def test_after_the_listener_reconnects_its_tabs_get_what_they_missed_once():
    await _clean_postgres(PG_URL)
    engine = make_engine(PG_URL)
    await migrate.upgrade(engine)
    await engine.dispose()
    pg = make_url(PG_URL)
    proxy = CuttableProxy(pg.host or "127.0.0.1", pg.port or 5432)
    port = await proxy.start()
    a = Replica(PG_URL, listen_dsn=asyncpg_dsn(pg.set(port=port).render_as_string(False)))
    b = Replica(PG_URL)
    await a.start()
    await b.start()
    try:
        tab_a = await open_tab(a)
        page = await queued(b.db, out("k1", "【新工单】", buttons=((Button("接单", "t:1:ack"),),)))
        await b.chat.send(page)
        await tab_a.until(tab_a.got("k1"))

        await proxy.cut()  # the database "restarts": A's listener loses its connection
        await a.fanout.wait_deaf(WAIT)
        assert "reconnecting" in a.chat.status()
        await b.chat.send(await queued(b.db, out("k2", "A 没听到的消息")))
        await b.chat.edit(await queued(b.db, out("k3", "【已接单】", edits="k1")), "k1")

        await proxy.restore()
        await a.fanout.wait_listening(WAIT)
        await b.chat.send(await queued(b.db, out("k4")))
        await tab_a.until(tab_a.got("k4"))
        assert tab_a.messages() == ["k1", "k2", "k4"]
        edits = [f for f in tab_a.frames if f["type"] == "edit"]
        assert [(f["key"], f["text"], f["buttons"]) for f in edits] == [("k1", "【已接单】", [])]
        assert a.fanout.reconnects == 1 and "listening, 1 reconnects" in a.chat.status()
    finally:
        await a.close()
        await b.close()
        await proxy.cut()


# --- Without PostgreSQL ---------------------------------------------------------------------
class SlowHistory:
    """History that waits for the test: a message can arrive while it loads."""

    def __init__(self) -> None:
        self.asked, self.go = asyncio.Event(), asyncio.Event()
        self.messages: list[Outgoing] = []

    async def __call__(self, _chat_id: str) -> list[dict[str, Any]]:
        self.asked.set()
        await self.go.wait()
        return [frame(m) for m in self.messages]


async def local_chat(history: Callable[[str], Awaitable[list[dict[str, Any]]]]) -> tuple[
        TestClient, WebChat]:
    chat = WebChat(receive=_nobody, history=history, directory=_people, texts=lambda lang: {},
                   demo=True, cookie_secret="s")
    app = web.Application()
    chat.attach(app)
    client = TestClient(TestServer(app))
    await client.start_server()
    await chat.start()
    return client, chat


async def test_a_message_pushed_while_history_loads_comes_after_it_and_only_once():
    history = SlowHistory()
    client, chat = await local_chat(history)
    try:
        ws = await client.ws_connect("/ws?user=demo-reporter")
        await asyncio.wait_for(history.asked.wait(), WAIT)
        history.messages = [out("k1")]  # k1 is in history and pushed too; k2 only pushed
        await chat.send(out("k1"))
        await chat.send(out("k2"))
        history.go.set()
        tab = Tab(ws)
        await tab.until(tab.got("k2"))
        assert [f["type"] for f in tab.frames] == ["history", "message"]
        assert [m["key"] for m in tab.frames[0]["messages"]] == ["k1"]
        await chat.send(out("k1"))
        await chat.send(out("k3"))
        await tab.until(tab.got("k3"))
        assert tab.messages() == ["k2", "k3"]
        await ws.close()
    finally:
        await chat.stop()
        await client.close()


async def test_on_sqlite_the_web_chat_pushes_in_process_without_listening(tmp_path: Path):
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'f.db'}", channels="web",
                        files_dir=tmp_path / "files")
    fl = await build(settings, kb=object())
    await fl.start(schedule=False)
    try:
        web_chat = fl.adapters["web"]
        assert isinstance(web_chat, WebChat) and web_chat.fanout is None
        assert web_chat.status() == "ok (0 tabs)"
    finally:
        await fl.stop()


@needs_pg
async def test_on_postgresql_the_wiring_listens_and_health_says_so(tmp_path: Path):
    await _clean_postgres(PG_URL)
    settings = Settings(database_url=PG_URL, channels="web", files_dir=tmp_path / "files")
    fl = await build(settings, kb=object())
    await fl.start(schedule=False)
    try:
        web_chat = fl.adapters["web"]
        assert isinstance(web_chat, WebChat) and isinstance(web_chat.fanout, PgFanout)
        assert web_chat.fanout.dsn.startswith("postgresql://")
        await web_chat.fanout.wait_listening(WAIT)
        client = TestClient(TestServer(fl.web_app))
        await client.start_server()
        try:
            report = await (await client.get("/healthz")).json()
            assert report["channels"]["web"] == "ok (0 tabs); fan-out listening, 0 reconnects"
        finally:
            await client.close()
    finally:
        await fl.stop()
