"""The web chat adapter over a real aiohttp server on loopback, with a recording desk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.webchat import COOKIE, WebChat, WebUser, frame
from handlers.core.messages import Button, Incoming, Kind, Outgoing

PEOPLE = [WebUser("demo-reporter", "李明", "reporter", "一号园区"),
          WebUser("demo-engineer-1", "张工", "engineer")]


class Desk:
    def __init__(self) -> None:
        self.received: list[Incoming] = []
        self.history: dict[str, list[Outgoing]] = {}
        self.fail = False

    async def receive(self, inc: Incoming) -> None:
        if self.fail:
            raise RuntimeError("boom")
        self.received.append(inc)

    async def past(self, chat_id: str) -> list[dict[str, Any]]:
        return [frame(m) for m in self.history.get(chat_id, [])]


async def client_for(desk: Desk, demo: bool) -> tuple[TestClient, WebChat]:
    async def directory() -> list[WebUser]:
        return PEOPLE

    chat = WebChat(receive=desk.receive, history=desk.past, directory=directory,
                   texts=lambda lang: {"error": "出错了", "bad_frame": "格式不对"}, demo=demo,
                   cookie_secret="s3cret",
                   max_text_chars=100)
    app = web.Application()
    chat.attach(app)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client, chat


@pytest.fixture
async def demo() -> AsyncIterator[tuple[TestClient, WebChat, Desk]]:
    desk = Desk()
    client, chat = await client_for(desk, demo=True)
    yield client, chat, desk
    await chat.stop()
    await client.close()


async def next_json(ws, kind: str) -> dict:  # type: ignore[no-untyped-def]
    while True:
        msg = await ws.receive_json(timeout=5)
        if msg["type"] == kind:
            return msg


async def test_the_page_and_its_assets_are_served_without_any_cdn(demo):
    client, _, _ = demo
    page = await client.get("/")
    html = await page.text()
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    assert "http://" not in html and "https://" not in html
    js = await client.get("/static/app.js")
    assert js.status == 200 and "javascript" in js.headers["Content-Type"]


async def test_history_comes_first_then_a_join_is_handed_to_the_desk(demo):
    client, _, desk = demo
    desk.history["demo-reporter"] = [Outgoing("web", "demo-reporter", "旧消息", "k1")]
    async with client.ws_connect("/ws?user=demo-reporter") as ws:
        history = await next_json(ws, "history")
        assert history["messages"][0]["text"] == "旧消息"
        await ws.send_json({"type": "text", "text": "电磁阀打不开", "id": "c1"})
        await ws.send_json({"type": "text", "text": "/status", "id": "c2"})
        await ws.send_json({"type": "button", "data": "t:1:ack", "id": "c3"})
        await ws.send_json({"type": "sticker", "id": "c4"})
        await ws.send_str("not json")  # refused by the adapter: an error frame, no desk
        await ws.send_bytes(b"\x00\x01")
        for _ in range(2):
            assert (await next_json(ws, "error"))["text"] == "格式不对"
        await ws.send_json({"type": "text", "text": "很" * 500, "id": "c5"})
        await ws.close()
    kinds = [(i.kind, i.update_id) for i in desk.received]
    assert kinds[0] == (Kind.JOIN, "join:demo-reporter")
    assert [k for k, _ in kinds[1:5]] == [Kind.TEXT, Kind.COMMAND, Kind.BUTTON, Kind.UNSUPPORTED]
    assert kinds[1][1] == "demo-reporter:c1"  # frame ids are the visitor's own
    assert desk.received[3].data == "t:1:ack" and desk.received[1].chat_id == "demo-reporter"
    assert len(desk.received) == 6 and len(desk.received[5].text) == 100  # the limit


async def test_send_reaches_every_tab_of_one_person_and_nobody_else(demo):
    client, chat, _ = demo
    async with client.ws_connect("/ws?user=demo-reporter") as a, \
            client.ws_connect("/ws?user=demo-reporter") as b, \
            client.ws_connect("/ws?user=demo-engineer-1") as other:
        for ws in (a, b, other):
            await next_json(ws, "history")
        out = Outgoing("web", "demo-reporter", "FL-000001 已登记", "k9",
                       ((Button("催单", "t:1:urge"),),))
        assert await chat.send(out) == "k9"
        for ws in (a, b):
            got = await next_json(ws, "message")
            assert got["text"] == "FL-000001 已登记" and got["buttons"][0][0]["data"] == "t:1:urge"
        await chat.edit(Outgoing("web", "demo-reporter", "已更新", "k10", edits="k9"), "k9")
        edit = await next_json(a, "edit")
        assert edit["key"] == "k9" and edit["text"] == "已更新" and edit["buttons"] == []
        await chat.send(Outgoing("web", "demo-engineer-1", "只给张工", "k11"))
        assert (await next_json(other, "message"))["text"] == "只给张工"


async def test_sending_to_someone_with_no_tab_open_succeeds(demo):
    _, chat, _ = demo
    assert await chat.send(Outgoing("web", "nobody-here", "稍后看到", "k1")) == "k1"


async def test_an_unknown_demo_person_is_refused(demo):
    client, _, desk = demo
    async with client.ws_connect("/ws?user=mallory") as ws:
        msg = await ws.receive(timeout=5)
        assert ws.close_code == 4403 or msg.type.name in ("CLOSE", "CLOSED")
    assert desk.received == []


async def test_a_desk_failure_is_answered_with_an_error_frame(demo):
    client, _, desk = demo
    async with client.ws_connect("/ws?user=demo-reporter") as ws:
        await next_json(ws, "history")
        desk.fail = True
        await ws.send_json({"type": "text", "text": "你好", "id": "c1"})
        assert (await next_json(ws, "error"))["text"] == "出错了"


async def test_outside_demo_mode_each_browser_gets_a_signed_identity():
    desk = Desk()
    client, chat = await client_for(desk, demo=False)
    try:
        assert (await client.get("/webchat/people")).status == 404
        page = await client.get("/")
        cookie = page.cookies[COOKIE].value
        async with client.ws_connect("/ws?user=demo-manager") as ws:  # ?user is ignored
            await next_json(ws, "history")
            await ws.send_json({"type": "text", "text": "你好", "id": "c1"})
            await ws.close()
        visitor = desk.received[-1].user_id
        assert visitor.startswith("visitor-") and visitor != "demo-manager"

        value = cookie.rpartition(".")[0]
        client.session.cookie_jar.clear()
        client.session.cookie_jar.update_cookies({COOKIE: f"{value}.forged"})
        async with client.ws_connect("/ws") as ws:
            assert (await ws.receive(timeout=5)).type.name in ("CLOSE", "CLOSED")
    finally:
        await chat.stop()
        await client.close()


class DeadTab:
    """A socket whose peer vanished: every send fails."""

    closed = False

    async def send_json(self, payload: object) -> None:
        raise ConnectionResetError("gone")

    async def close(self, **_: object) -> bool:
        self.closed = True
        return True


async def test_a_dead_tab_is_dropped_and_the_other_tabs_still_get_the_message(demo):
    client, chat, _ = demo
    async with client.ws_connect("/ws?user=demo-reporter") as live:
        await next_json(live, "history")
        dead = DeadTab()
        chat._sockets["demo-reporter"].add(dead)  # type: ignore[arg-type]
        assert await chat.send(Outgoing("web", "demo-reporter", "照常送达", "k1")) == "k1"
        assert (await next_json(live, "message"))["text"] == "照常送达"
        assert dead not in chat._sockets["demo-reporter"] and dead.closed


async def test_a_tab_that_closes_leaves_no_trace_in_the_hub(demo):
    client, chat, _ = demo
    async with client.ws_connect("/ws?user=demo-reporter") as ws:
        await next_json(ws, "history")
        assert "(1 tabs)" in chat.status()
    for _ in range(50):  # the server notices the close a moment later
        if "demo-reporter" not in chat._sockets:
            break
        await asyncio.sleep(0.02)
    assert "demo-reporter" not in chat._sockets and "(0 tabs)" in chat.status()
