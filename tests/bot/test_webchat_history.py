"""The web chat's history kept on the server, the page's language choice and the demo's time
control, on the real app (bootstrap's wiring, the desk, the database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot import demo as demo_cast
from bot.bootstrap import Frontline, build
from bot.settings import Settings
from bot.webchat import COOKIE, WebChat
from bot.webchat_wiring import DbTranscript
from handlers.core.clock import FakeClock, OffsetClock
from handlers.core.messages import Button, Outgoing
from handlers.flows import admission
from storage import webchat_history
from storage.models import Conversation, Person, Role
from tests.conftest import Cast
from tests.handlers.test_ticket_life import report_valve_fault, resolve
from tests.support.chat import settle
from tests.support.fakes import FakeChannel, valve_kb

FOLLOW_UP = "问题有没有再出现"


async def web_app(settings: Settings, clock: Any, *, demo: bool,
                  channels: dict[str, Any] | None = None, seed: bool = True) -> Frontline:
    fl = await build(settings.model_copy(update={"channels": "web", "webchat_demo": demo}),
                     clock=clock, channels=channels, kb=valve_kb())
    await fl.start(schedule=False)
    if demo and seed:
        await demo_cast.seed(fl.db, fl.clock)
    return fl


@pytest.fixture
async def web(settings: Settings, clock: FakeClock) -> AsyncIterator[
        tuple[Frontline, TestClient]]:
    fl = await web_app(settings, clock, demo=True)
    async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
        yield fl, client
    await fl.stop()


async def frames_until(ws: Any, kind: str, text: str = "") -> list[dict[str, Any]]:
    seen = []
    while True:
        msg = await ws.receive_json(timeout=10)
        seen.append(msg)
        if msg["type"] == kind and text in msg.get("text", ""):
            return seen


async def history(client: TestClient, user: str) -> dict[str, Any]:
    """What a page gets on (re)connect, from any device."""
    async with client.ws_connect(f"/ws?user={user}") as ws:
        return (await frames_until(ws, "history"))[-1]


async def test_an_invitation_code_is_shown_live_and_masked_after_a_reload(web):
    _, client = web
    async with client.ws_connect("/ws?user=demo-manager") as ws:
        await frames_until(ws, "history")
        await ws.send_json({"type": "text", "text": "/invite 一号园区", "id": "i1"})
        live = (await frames_until(ws, "message", "邀请码"))[-1]
    code = live["text"].split("邀请码：")[1][:11]
    assert len(code) == 11 and code[5] == "-"

    shown = await history(client, "demo-manager")
    kept = [m["text"] for m in shown["messages"] if "邀请码" in m["text"]]
    assert kept == [live["text"].replace(code, "•••••")]


async def test_a_typed_invitation_code_is_kept_masked_in_the_persons_own_lines(web):
    fl, _ = web
    transcript = DbTranscript(fl.db, fl.clock)
    code = admission.new_code()
    await transcript.said("w1", "me:w1:1", admission.shown(code).lower(), "")
    await transcript.said("w1", "me:w1:2", "水泵不转", "")
    async with fl.db.transaction() as tx:
        lines = await webchat_history.lines(tx, "w1")
    assert [line.text for line in lines] == ["•••••", "水泵不转"]


def chat_of(fl: Frontline) -> WebChat:
    chat = fl.adapters["web"]
    assert isinstance(chat, WebChat)
    return chat


async def test_after_a_reload_the_page_shows_both_sides_of_the_conversation(web):
    _, client = web
    async with client.ws_connect("/ws?user=demo-reporter") as ws:
        await frames_until(ws, "history")
        await frames_until(ws, "message")  # the greeting on a first visit
        await ws.send_json({"type": "text", "text": "/help", "id": "h1"})
        reply = (await frames_until(ws, "message", "热线"))[-1]

    shown = await history(client, "demo-reporter")
    assert shown["mine"] == [{"key": "me:demo-reporter:h1", "text": "/help",
                              "before": reply["key"]}]
    assert reply["key"] in [m["key"] for m in shown["messages"]]
    assert "热线" in shown["messages"][-1]["text"]


async def test_a_line_typed_on_one_tab_shows_on_the_persons_other_tabs(web):
    _, client = web
    async with client.ws_connect("/ws?user=demo-reporter") as phone, \
            client.ws_connect("/ws?user=demo-reporter") as laptop:
        for ws in (phone, laptop):
            await frames_until(ws, "history")
        await phone.send_json({"type": "text", "text": "3号地块电磁阀打不开", "id": "p1"})
        mine = (await frames_until(laptop, "mine"))[-1]
        assert mine == {"type": "mine", "key": "me:demo-reporter:p1",
                        "text": "3号地块电磁阀打不开"}


async def test_an_edited_message_shows_as_edited_and_once(web):
    fl, client = web
    chat = chat_of(fl)
    await chat.send(Outgoing("web", "demo-engineer-1", "FL-000009 请接单", "k1",
                             ((Button("接单", "t:9:ack"),),)))
    await chat.edit(Outgoing("web", "demo-engineer-1", "FL-000009 已接单", "k2", edits="k1"),
                    "k1")
    shown = await history(client, "demo-engineer-1")
    assert [(m["key"], m["text"], m["buttons"]) for m in shown["messages"]] == [
        ("k1", "FL-000009 已接单", [])]


async def test_only_the_latest_buttons_of_a_ticket_or_dialogue_are_live(web):
    fl, client = web
    chat = chat_of(fl)
    sent = [("k1", "t:1:ack"), ("k2", "i:aa11:imp_one"), ("k3", "t:1:progress"),
            ("k4", "i:bb22:submit"), ("k5", "t:2:ack"), ("k6", "")]
    for key, data in sent:
        buttons = ((Button("按钮", data),),) if data else ()
        await chat.send(Outgoing("web", "demo-engineer-1", f"消息 {key}", key, buttons))
    shown = await history(client, "demo-engineer-1")
    assert [(m["key"], m["live"]) for m in shown["messages"]] == [
        ("k1", False), ("k2", False), ("k3", True), ("k4", True), ("k5", True), ("k6", False)]

    # Pressing a button marked stale still reaches the desk, which says it is no longer valid.
    async with client.ws_connect("/ws?user=demo-engineer-1") as ws:
        await frames_until(ws, "history")
        await ws.send_json({"type": "button", "data": "t:1:ack", "label": "按钮", "id": "b1"})
        answer = (await frames_until(ws, "message"))[-1]
        assert answer["text"] and answer["key"] not in {k for k, _ in sent}
        await ws.send_json({"type": "button", "data": "t:2:ack", "label": "按钮", "id": "b2"})
        await frames_until(ws, "message")
    shown = await history(client, "demo-engineer-1")
    assert [m["text"] for m in shown["mine"]] == ["「按钮」", "「按钮」"]
    live = {m["key"]: m["live"] for m in shown["messages"]}
    assert (live["k3"], live["k4"], live["k5"]) == (True, True, False)  # k5 was pressed


async def test_each_chat_keeps_its_latest_lines_only(app):
    now = app.clock.now()
    async with app.db.transaction() as tx:
        for i in range(webchat_history.KEEP + 5):
            await webchat_history.add(tx, "busy", f"k{i}", f"第 {i} 条", now)
        await webchat_history.add(tx, "quiet", "k0", "只有一条", now)
        assert not await webchat_history.add(tx, "quiet", "k0", "同一条又送一次", now)
    async with app.db.transaction() as tx:
        busy = await webchat_history.lines(tx, "busy")
        quiet = await webchat_history.lines(tx, "quiet")
    assert len(busy) == webchat_history.KEEP and busy[0].key == "k5" and busy[-1].key == "k204"
    assert [(q.key, q.text) for q in quiet] == [("k0", "只有一条")]


async def test_the_language_chosen_on_the_page_becomes_the_persons_language(web):
    fl, client = web
    async with client.ws_connect("/ws?user=demo-reporter") as ws:
        await frames_until(ws, "history")
        await ws.send_json({"type": "lang", "lang": "en", "id": "l1"})
        await frames_until(ws, "message", "Language set to English")
        await ws.send_json({"type": "text", "text": "/help", "id": "h1"})
        assert (await frames_until(ws, "message", "hotline"))[-1]["text"]
    async with fl.db.transaction() as tx:
        person = (await tx.scalars(select(Person).where(Person.name == "李明")))[0]
    assert person.language == "en" and person.role == Role.REPORTER
    assert [m["text"] for m in (await history(client, "demo-reporter"))["mine"]] == ["/help"]


async def test_a_visitor_not_yet_registered_gets_the_chosen_language_too(settings, clock):
    fl = await web_app(settings, clock, demo=False)
    try:
        async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
            page = await client.get("/")
            cookie = f"{COOKIE}={page.cookies[COOKIE].value}"
            async with client.ws_connect("/ws", headers={"Cookie": cookie}) as ws:
                await frames_until(ws, "history")
                await ws.send_json({"type": "lang", "lang": "en", "id": "l1"})
                await frames_until(ws, "message", "Language set to English")
                await ws.send_json({"type": "lang", "lang": "fr", "id": "l2"})
                await frames_until(ws, "message", "/lang en")  # the usage: zh or en only
        async with fl.db.transaction() as tx:
            convs = await tx.scalars(select(Conversation).where(Conversation.channel == "web"))
        assert [c.language for c in convs] == ["en"]
    finally:
        await fl.stop()


async def test_outside_demo_mode_there_is_no_time_control(settings, clock):
    fl = await web_app(settings, clock, demo=False)
    try:
        async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
            before = fl.clock.now()
            assert (await client.post("/webchat/demo/skip")).status == 404
            assert (await client.get("/webchat/demo/time")).status == 404
            assert (await (await client.get("/webchat/texts")).json())["time_control"] is False
            page = await (await client.get("/")).text()
            assert 'id="skip"' not in page
            assert fl.clock.now() == before
    finally:
        await fl.stop()


async def test_a_demo_without_the_offset_clock_has_no_time_control_either(web):
    _, client = web  # the app's clock here is a test's FakeClock, not the demo's
    assert (await client.post("/webchat/demo/skip")).status == 404


async def test_skipping_a_day_in_the_demo_brings_the_follow_up(settings, tmp_path):
    channel = FakeChannel()
    clock = OffsetClock(FakeClock())
    # The people are on the fake channel here (the demo's own cast would take the job).
    fl = await web_app(settings, clock, demo=True, channels={"fake": channel}, seed=False)
    try:
        cast = Cast(fl, channel)
        reporter = await cast.add("r1", "李明", Role.REPORTER, site="一号园区")
        engineer = await cast.add("e1", "张工", Role.ENGINEER, site="一号园区",
                                  skills=["valve", "irrigation"])
        await report_valve_fault(reporter)
        await engineer.presses("接单")
        await resolve(engineer)
        await reporter.presses("已解决")
        assert not reporter.heard(FOLLOW_UP)
        async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
            origin = f"http://{client.host}:{client.port}"
            forged = await client.post("/webchat/demo/skip",
                                       headers={"Origin": "http://evil.example"})
            assert forged.status == 403 and clock.offset == timedelta(0)
            shown = await (await client.get("/webchat/demo/time")).json()
            skipped = await client.post("/webchat/demo/skip", headers={"Origin": origin})
            assert skipped.status == 200
            answer = await skipped.json()
            assert answer["now"] != shown["now"] and answer["fired"] >= 1
        await settle(fl)
        assert clock.offset == timedelta(hours=24)
        assert FOLLOW_UP in reporter.last().text
    finally:
        await fl.stop()
