"""Issue 19's flows through the web chat: each person's page on a WebSocket (and the photo
button's HTTP upload) against the real app, as the page's script talks to it.

Consent to remote work (pressed and typed), a scheduled inspection answered with buttons, a
typed reading and an uploaded photo, the spare-parts question; and after a reload, the buttons
already answered come back disabled (`live` false) while the current ones stay pressable."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.bootstrap import Frontline
from bot.settings import Settings
from handlers.core.clock import FakeClock
from storage.models import InspectionReading, PartUsage, Progress, Ticket
from tests.bot.test_webchat_history import history, web_app
from tests.bot.test_webchat_photos import form, png
from tests.handlers.test_inspections import PLANS
from tests.support.chat import settle

_frame_ids = itertools.count(1)
PLAN = "<b>远程重启</b> 3号地块网关 & 检查日志"


@dataclass
class Page:
    """One person's open web chat tab."""

    fl: Frontline
    client: TestClient
    ws: ClientWebSocketResponse
    user: str
    shown: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → text, buttons

    async def says(self, text: str) -> None:
        await self.ws.send_json({"type": "text", "text": text, "id": f"f{next(_frame_ids)}"})

    async def presses(self, label: str) -> None:
        await self.ws.send_json({"type": "button", "data": self.button(label), "label": label,
                                 "id": f"f{next(_frame_ids)}"})

    async def uploads_photo(self) -> None:
        sent = await self.client.post(f"/webchat/photo?user={self.user}",
                                      data=form(png(), f"ph{next(_frame_ids)}"))
        assert sent.status == 200, await sent.text()

    async def sees(self, fragment: str) -> dict[str, Any]:
        """Read the page's frames until a message (or an edit) shows this fragment."""
        while True:
            msg = await self.ws.receive_json(timeout=10)
            if msg["type"] == "message":
                self.shown[msg["key"]] = msg
            elif msg["type"] == "edit":
                self.shown[msg["key"]] = {**self.shown.get(msg["key"], {}), **msg}
            else:
                continue
            if fragment in msg["text"]:
                return self.shown[msg["key"]]

    def button(self, label: str) -> str:
        for msg in reversed(self.shown.values()):
            for row in msg.get("buttons", []):
                for b in row:
                    if b["label"] == label:
                        return str(b["data"])
        texts = "\n---\n".join(m["text"] for m in self.shown.values())
        raise AssertionError(f"no button {label!r} on {self.user}'s page:\n{texts}")


def labels(msg: dict[str, Any]) -> list[str]:
    return [b["label"] for row in msg.get("buttons", []) for b in row]


async def reloaded(page: Page) -> list[dict[str, Any]]:
    """The person's messages as a reload shows them (from the server's history)."""
    return list((await history(page.client, page.user))["messages"])


def live(messages: list[dict[str, Any]], fragment: str) -> list[bool]:
    return [m["live"] for m in messages if fragment in m["text"]]


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    plans = tmp_path / "inspections.toml"
    plans.write_text(PLANS, "utf-8")
    return settings.model_copy(update={"inspections_file": plans})


@pytest.fixture
async def web(settings: Settings, clock: FakeClock) -> AsyncIterator[
        tuple[Frontline, TestClient]]:
    fl = await web_app(settings, clock, demo=True)
    async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
        yield fl, client
    await fl.stop()


@pytest.fixture
async def pages(web) -> AsyncIterator[dict[str, Page]]:  # type: ignore[no-untyped-def]
    """The reporter's and the engineer's tabs, open and greeted."""
    fl, client = web
    async with AsyncExitStack() as stack:
        opened = {}
        for who in ("demo-reporter", "demo-engineer-1"):
            ws = await stack.enter_async_context(client.ws_connect(f"/ws?user={who}"))
            page = Page(fl, client, ws, who)
            await page.sees("")  # the greeting on a first visit
            opened[who] = page
        yield opened


async def report_and_accept(reporter: Page, engineer: Page) -> None:
    await reporter.says("3号地块电磁阀打不开，不出水")
    await reporter.sees("《电磁阀打不开》")
    await reporter.presses("没解决，报修")
    await reporter.sees("影响范围")
    await reporter.presses("单个设备")
    await reporter.sees("请确认报修信息")
    await reporter.presses("确认提交")
    await reporter.sees("FL-000001")
    await engineer.sees("【新工单】FL-000001")
    await engineer.presses("接单")
    await engineer.sees("您已接下工单 FL-000001")


async def ticket(fl: Frontline) -> Ticket:
    async with fl.db.transaction() as tx:
        found = await tx.get(Ticket, 1)
    assert found is not None
    return found


# --- consent before remote work -----------------------------------------------------------

async def test_the_reporter_agrees_on_the_page_and_after_a_reload_the_answer_is_spent(web,
                                                                                      pages):
    fl, _ = web
    reporter, engineer = pages["demo-reporter"], pages["demo-engineer-1"]
    await report_and_accept(reporter, engineer)
    await engineer.presses("远程处理")
    await engineer.sees("一句话说明要做什么")
    await engineer.says(PLAN)

    request = await reporter.sees("申请远程操作")
    assert f"「{PLAN}」" in request["text"]  # as typed: the page shows text, never markup
    assert labels(request) == ["同意", "不同意"]
    await engineer.sees("已请 李明 同意远程操作")
    assert (await ticket(fl)).progress == ""

    await reporter.presses("同意")

    await reporter.sees("已通知工程师开始远程操作")
    told = await engineer.sees("李明 同意了，可以开始远程操作")
    assert "已解决" in labels(told) and "远程处理" not in labels(told)
    assert (await ticket(fl)).progress == Progress.REMOTE

    after = await reloaded(reporter)
    assert live(after, "申请远程操作") == [False]  # answered: its buttons come back disabled
    shown = await reloaded(engineer)
    assert live(shown, "您已接下工单") == [False]  # the work buttons moved on …
    assert live(shown, "李明 同意了") == [True]  # … to the newest message of the ticket


async def test_a_typed_no_on_the_page_tells_the_engineer_once(web, pages):
    fl, _ = web
    reporter, engineer = pages["demo-reporter"], pages["demo-engineer-1"]
    await report_and_accept(reporter, engineer)
    await engineer.presses("远程处理")
    await engineer.sees("一句话说明要做什么")
    await engineer.says("远程改灌溉计划")
    await reporter.sees("申请远程操作")

    await reporter.says("不同意")

    await reporter.sees("不进行远程操作")
    told = await engineer.sees("李明 不同意远程操作")
    assert labels(told) == ["出发去现场"]
    await reporter.says("不同意")  # typed twice: answered, nothing more happens
    assert "不用再答" in (await reporter.sees("远程操作申请已于"))["text"]
    # the request itself (edited on the page as the answer went in) says how it ended
    request = next(m for m in reporter.shown.values() if "申请远程操作您的系统" in m["text"])
    assert "答复不同意" in request["text"] and labels(request) == []  # no button left
    assert (await ticket(fl)).progress == ""


# --- a scheduled inspection ---------------------------------------------------------------

async def test_a_checklist_answered_by_button_a_typed_number_and_an_uploaded_photo(web, pages,
                                                                                   clock):
    fl, _ = web
    engineer = pages["demo-engineer-1"]
    clock.advance(hours=1)  # 10:00 site time: the day's round comes due
    await fl.sweeper.run_once()
    await settle(fl)
    intro = await engineer.sees("【巡检】灌溉巡检")
    assert labels(intro) == ["开始", "稍后"]

    await engineer.presses("开始")
    assert labels(await engineer.sees("第 1/4 项：水泵运行正常")) == ["正常", "异常", "暂停"]
    await engineer.presses("正常")
    await engineer.sees("第 2/4 项：主管道水压")
    await engineer.uploads_photo()  # a photo where a number is asked
    await engineer.sees("这一项要输入数字（主管道水压），不是照片")
    await engineer.says("abc")
    await engineer.sees("不是读数")
    await engineer.says("0.25 MPa")
    await engineer.sees("第 3/4 项：过滤器照片")
    await engineer.uploads_photo()
    await engineer.sees("第 4/4 项：其他情况")
    await engineer.presses("跳过")
    done = await engineer.sees("巡检完成：灌溉巡检")
    assert "共 4 项：正常 4，异常 0。" in done["text"]

    async with fl.db.transaction() as tx:
        got = {r.item_key: r for r in await tx.scalars(select(InspectionReading))}
    assert got["pump"].ok and got["pressure"].number == 0.25
    assert got["filter"].photo["mime"] == "image/png"

    after = await reloaded(engineer)
    assert live(after, "【巡检】灌溉巡检") == [False]
    assert live(after, "第 1/4 项") == [False]  # 正常 pressed
    assert live(after, "第 4/4 项") == [False]  # 跳过 pressed
    assert "📷 照片" in [m["text"] for m in (await history(engineer.client,
                                                             engineer.user))["mine"]]


async def test_in_english_a_fault_noted_with_a_photo_opens_a_ticket(web, pages, clock):
    fl, _ = web
    engineer = pages["demo-engineer-1"]
    await engineer.ws.send_json({"type": "lang", "lang": "en", "id": "lang1"})  # the selector
    await engineer.sees("Language set to English")
    clock.advance(hours=1)
    await fl.sweeper.run_once()
    await settle(fl)
    assert labels(await engineer.sees("[Inspection] Irrigation round")) == ["Start", "Later"]

    await engineer.presses("Start")
    assert labels(await engineer.sees("Item 1/4: Pump runs normally")) == ["OK", "Fault",
                                                                           "Pause"]
    await engineer.presses("Fault")
    await engineer.sees('What is wrong with "Pump runs normally"?')
    await engineer.uploads_photo()  # the note may be a photo
    await engineer.sees("Item 2/4: Main line pressure")
    await engineer.says("0.3")
    await engineer.sees("Item 3/4")
    await engineer.uploads_photo()
    await engineer.sees("Item 4/4")
    await engineer.presses("Skip")

    done = await engineer.sees("Inspection finished: Irrigation round")
    assert "4 items: 3 OK, 1 not OK." in done["text"]
    assert "• Pump runs normally: " in done["text"] and "→ ticket FL-000001" in done["text"]
    found = await ticket(fl)
    assert found.channel == "inspection"
    assert [a["mime"] for a in found.attachments] == ["image/png"]  # the uploaded note


# --- spare parts at resolution ------------------------------------------------------------

async def test_parts_picked_on_the_page_with_a_typed_quantity(web, pages):
    fl, _ = web
    reporter, engineer = pages["demo-reporter"], pages["demo-engineer-1"]
    await report_and_accept(reporter, engineer)
    await engineer.presses("已解决")
    await engineer.sees("请选择故障类型")
    await engineer.presses("通讯线路或硬件故障")
    await engineer.sees("故障原因")
    for typed, next_question in (("线圈烧坏", "处理方法"), ("更换线圈", "防止再次发生")):
        await engineer.says(typed)
        await engineer.sees(next_question)
    await engineer.says("定期检查")
    asked = await engineer.sees("用了备件吗")
    assert {"其他", "没有用备件"} <= set(labels(asked)) and len(labels(asked)) <= 6

    await engineer.presses("电磁阀 DN32")
    await engineer.sees("用了多少个")
    await engineer.says("两个")
    await engineer.sees("已记录：电磁阀 DN32 × 2 个")
    await engineer.presses("完成")
    await engineer.sees("备件已登记")

    async with fl.db.transaction() as tx:
        used = await tx.scalars(select(PartUsage))
    assert [(u.code, u.quantity) for u in used] == [("SV_DN32", 2)]
    after = await reloaded(engineer)
    assert live(after, "用了备件吗") == [False] and live(after, "已记录：") == [False]
