"""Issue 19's flows through WeCom: signed callbacks in, the fake WeCom API out, the real desk.

Consent to remote work, the spare-parts question, a scheduled inspection and a shift swap, each
answered by pressing template-card buttons (template_card_event) and by typing, and what WeCom
actually receives: escaped text, cards within WeCom's limits, cards updated after a press."""

from __future__ import annotations

import html
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from sqlalchemy import select

from bot.bootstrap import Frontline, build
from handlers.core.clock import FakeClock
from storage.models import (
    InspectionReading,
    PartUsage,
    Progress,
    Role,
    ShiftSwap,
    SwapState,
    Ticket,
)
from tests.fakes.wecom_api import FakeWeComApi
from tests.handlers.test_inspections import PLANS
from tests.handlers.test_oncall import ROTA
from tests.support.fakes import valve_kb
from tests.wecom.conftest import Caller, plain_xml, wecom_settings
from tests.wecom.test_wecom_ticket_life import WeComUser, _times, person

PHISH = '<a href="http://evil.example/login">远程重启网关</a>'

Desk = tuple[Frontline, FakeWeComApi, Caller]
# WeCom's own limits (message/send, button_interaction cards), written out rather than read
# from bot/wecom/cards.py, so a change there that breaks them fails here
MAX_BUTTONS, MAX_TITLE, MAX_SUBTITLE, MAX_TEXT_BYTES, MAX_TASK_ID = 6, 26, 112, 2048, 128


@pytest.fixture
async def desk(database_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    plans, rota = tmp_path / "inspections.toml", tmp_path / "rota.toml"
    plans.write_text(PLANS, "utf-8")
    rota.write_text(ROTA, "utf-8")
    async with FakeWeComApi() as api:
        settings = wecom_settings(
            api.base_url, database_url=database_url, channels="wecom",
            files_dir=tmp_path / "files", company_name="荔枝智慧果园",
            project_name="智慧果园运维服务", service_manager="陈经理",
            support_hotline="400-800-1234", outbox_retry_base_seconds=1.0,
            flood_burst=100_000, inspections_file=plans, rota_file=rota,
        )
        fl = await build(settings, clock=FakeClock(), kb=valve_kb())
        await fl.start(schedule=False)
        async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
            yield fl, api, Caller(client)
        await fl.stop()


@pytest.fixture
async def reporter(desk: Desk) -> WeComUser:
    return await person(desk, "liming", "李明", Role.REPORTER, site="一号园区",
                        phone="13800000001")


@pytest.fixture
async def engineer(desk: Desk) -> WeComUser:
    return await person(desk, "zhanggong", "张工", Role.ENGINEER, site="一号园区",
                        skills=["valve", "irrigation"], phone="13900000001")


@pytest.fixture
async def zhao(desk: Desk) -> WeComUser:
    return await person(desk, "zhaogong", "赵工", Role.ENGINEER, site="一号园区",
                        skills=["valve"], phone="13900000003")


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (40, 120, 60)).save(out, "JPEG")
    return out.getvalue()


async def sends_photo(user: WeComUser, media_id: str) -> None:
    """A photo as WeCom delivers it: an image message naming media the desk fetches."""
    user.api.media[media_id] = (jpeg(), "image/jpeg")
    await user._post(plain_xml("image", user.user_id, MediaId=media_id,
                               PicUrl=f"http://wework.example/{media_id}.jpg"))


def press_event(user: WeComUser, label: str) -> str:
    """The callback WeCom posts when this person taps the newest button with this label."""
    task, key = user.button(label)
    return plain_xml("event", user.user_id, create_time=next(_times),
                     Event="template_card_event", EventKey=key, TaskId=task,
                     CardType="button_interaction", ResponseCode=user.api.issue_code())


def seen(user: WeComUser) -> list[str]:
    """Every message, card and card update this person's WeCom shows, entities decoded: an
    edit (the desk replacing a card after a press) reaches WeCom as update_template_card."""
    shown = []
    for m in user.api.timeline:
        if m.get("touser") != user.user_id and user.user_id not in m.get("userids", []):
            continue
        if m.get("msgtype") == "text":
            shown.append(m["text"]["content"])
        elif "template_card" in m:
            card = m["template_card"]
            shown.append("\n".join([card.get("main_title", {}).get("title", ""),
                                    card.get("sub_title_text", "")]))
    return [html.unescape(s) for s in shown]


def saw(user: WeComUser, fragment: str) -> bool:
    return any(fragment in s for s in seen(user))


def card_with(user: WeComUser, label: str) -> dict[str, Any]:
    task, _ = user.button(label)
    return next(c for c in reversed(user._cards()) if c["task_id"] == task)


def assert_within_wecom_limits(api: FakeWeComApi) -> None:
    """Every card sent or updated keeps to what a button_interaction card may hold."""
    bodies = [m["template_card"] for m in api.timeline if "template_card" in m]
    assert bodies
    for body in bodies:
        keys = [b["key"] for b in body.get("button_list", [])]
        assert len(keys) <= MAX_BUTTONS, body
        assert len(set(keys)) == len(keys), body  # WeCom refuses a card with a key twice
        assert all(len(k.encode()) <= 64 for k in keys)
        assert "main_title" in body or "sub_title_text" in body
        title = html.unescape(body.get("main_title", {}).get("title", ""))
        assert len(title) <= MAX_TITLE, body
        assert len(html.unescape(body.get("sub_title_text", ""))) <= MAX_SUBTITLE, body
        assert len(body["task_id"]) <= MAX_TASK_ID
    for m in api.timeline:
        if m.get("msgtype") == "text":
            assert len(m["text"]["content"].encode()) <= MAX_TEXT_BYTES


async def ticket(fl: Frontline, n: int = 1) -> Ticket:
    async with fl.db.transaction() as tx:
        found = await tx.get(Ticket, n)
    assert found is not None
    return found


async def report_and_accept(reporter: WeComUser, engineer: WeComUser) -> None:
    await reporter.says("3号地块电磁阀打不开，不出水")
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    await reporter.presses("确认提交")
    await engineer.presses("接单")
    assert reporter.heard("张工")


# --- consent before remote work -----------------------------------------------------------

async def test_the_reporter_agrees_by_pressing_the_wecom_card(desk, reporter, engineer):
    fl, api, _ = desk
    await report_and_accept(reporter, engineer)
    await engineer.presses("远程处理")
    assert "一句话说明要做什么" in engineer.last()

    await engineer.says(PHISH)  # what the engineer types reaches the reporter as written

    request = card_with(reporter, "同意")
    assert [b["text"] for b in request["button_list"]] == ["同意", "不同意"]
    assert [b["key"] for b in request["button_list"]] == ["t:1:cs_yes:1", "t:1:cs_no:1"]
    assert saw(reporter, f"「{PHISH}」")
    assert api.links_to(reporter.user_id) == [] and api.links_to(engineer.user_id) == []
    assert (await ticket(fl)).progress == ""

    await reporter.presses("同意")

    assert (await ticket(fl)).progress == Progress.REMOTE
    assert reporter.heard("已通知工程师开始远程操作")
    assert saw(engineer, f"李明 同意了，可以开始远程操作（工单 FL-000001）：\n「{PHISH}」")
    assert "已解决" in engineer.labels()

    # The request's card keeps its buttons on WeCom (the desk answers with a new message);
    # pressing it again is answered, and changes nothing.
    await reporter.presses("同意")
    assert "远程操作申请已于" in reporter.last() and "不用再答" in reporter.last()
    assert_within_wecom_limits(api)


async def test_a_repeated_press_is_taken_once_and_a_typed_yes_works(desk, reporter, engineer):
    fl, _, caller = desk
    await report_and_accept(reporter, engineer)
    await engineer.presses("远程处理")
    await engineer.says("远程改灌溉计划")
    press = press_event(reporter, "不同意")

    assert await caller.post(press) == 200
    assert await caller.post(press) == 200  # the same callback again: WeCom's retry, dropped
    await reporter.adapter.callback.drain()
    await fl.delivery.flush_all()

    assert sum("不同意远程操作" in m for m in seen(engineer)) == 1
    assert "出发去现场" in engineer.labels() and (await ticket(fl)).progress == ""
    await engineer.presses("远程处理")  # asked anew; this time the reporter types
    await engineer.says("远程重启网关")
    await reporter.says("同意")
    assert saw(engineer, "李明 同意了，可以开始远程操作")
    assert (await ticket(fl)).progress == Progress.REMOTE


async def test_after_silence_consent_by_phone_from_the_engineers_card(desk, reporter,
                                                                      engineer):
    fl, api, _ = desk
    await report_and_accept(reporter, engineer)
    await engineer.presses("远程处理")
    await engineer.says("远程重启网关")
    for _ in range(2):  # a reminder to the reporter, then the engineer is told
        fl.clock.advance(minutes=30)
        await fl.sweeper.run_once()
        await fl.delivery.flush_all()
    assert saw(engineer, "60 分钟内没有答复")
    assert {"出发去现场", "已电话征得同意"} <= set(engineer.labels())

    await engineer.presses("已电话征得同意")
    assert saw(engineer, "谁在电话里同意了")
    await engineer.says("王场长 <i>13800000000</i>")

    assert saw(engineer, "已记录：王场长 <i>13800000000</i> 电话同意")
    assert saw(reporter, "张工 记录：王场长 <i>13800000000</i> 已电话同意")
    assert (await ticket(fl)).progress == Progress.REMOTE
    assert all("<i>" not in m["text"]["content"] for m in api.timeline
               if m.get("msgtype") == "text")  # escaped on the wire
    assert_within_wecom_limits(api)


# --- spare parts at resolution ------------------------------------------------------------

async def resolve(engineer: WeComUser) -> None:
    await engineer.presses("已解决")
    await engineer.presses("通讯线路或硬件故障")
    await engineer.says("线圈烧坏")
    await engineer.says("更换了电磁阀线圈")
    if engineer.heard("防止再次发生"):
        await engineer.says("雷雨季前检查线圈")


async def test_parts_are_picked_on_a_card_and_the_quantity_typed(desk, reporter, engineer):
    fl, api, _ = desk
    await report_and_accept(reporter, engineer)
    await resolve(engineer)
    asked = card_with(engineer, "没有用备件")
    assert "用了备件吗" in engineer.last()
    assert len(asked["button_list"]) <= MAX_BUTTONS  # parts, 其他, 没有用备件
    assert {"其他", "没有用备件", "电磁阀 DN32"} <= {b["text"] for b in asked["button_list"]}

    await engineer.presses("电磁阀 DN32")
    assert "用了多少个" in engineer.last()
    assert [b["text"] for b in card_with(engineer, "2")["button_list"]] == ["1", "2", "3"]
    await engineer.says("很多")
    assert "很多" in engineer.last() and "1" in engineer.labels()
    await engineer.says("2个")
    assert engineer.heard("已记录：电磁阀 DN32 × 2 个")
    await engineer.presses("完成")
    assert engineer.heard("备件已登记")

    async with fl.db.transaction() as tx:
        used = await tx.scalars(select(PartUsage))
    assert [(u.code, u.quantity) for u in used] == [("SV_DN32", 2)]
    assert_within_wecom_limits(api)


async def test_a_part_typed_by_name_is_offered_as_buttons(desk, reporter, engineer):
    fl, api, _ = desk
    await report_and_accept(reporter, engineer)
    await resolve(engineer)
    await engineer.presses("其他")
    assert "请输入备件名称或编号" in engineer.last()

    await engineer.says("<b>水管</b>")  # names nothing: quoted back as written, not as markup
    assert saw(engineer, "备件清单里没有找到“<b>水管</b>”")
    assert "&lt;b&gt;水管&lt;/b&gt;" in str(api.cards_to(engineer.user_id)[-1])
    await engineer.says("滴灌管")
    offered = card_with(engineer, "滴灌管 16mm")
    assert "滴灌管直通接头 16mm" in [b["text"] for b in offered["button_list"]]

    await engineer.presses("滴灌管 16mm")
    await engineer.says("3 m")
    assert engineer.heard("已记录：滴灌管 16mm × 3 米")
    await engineer.says("完成")  # typed, as the card says it may be
    assert engineer.heard("备件已登记")
    async with fl.db.transaction() as tx:
        used = await tx.scalars(select(PartUsage))
    assert [(u.code, u.quantity) for u in used] == [("DRIP_PIPE", 3)]
    assert_within_wecom_limits(api)


# --- a scheduled inspection ---------------------------------------------------------------

async def test_a_checklist_is_answered_on_cards_by_typing_and_with_a_photo(desk, engineer):
    fl, api, _ = desk
    fl.clock.advance(hours=1)  # 10:00 site time: the day's round comes due
    await fl.sweeper.run_once()
    await fl.delivery.flush_all()
    assert engineer.heard("【巡检】灌溉巡检")
    assert [b["text"] for b in card_with(engineer, "开始")["button_list"]] == ["开始", "稍后"]

    await engineer.presses("开始")
    assert engineer.heard("第 1/4 项：水泵运行正常")
    assert [b["text"] for b in card_with(engineer, "正常")["button_list"]] == [
        "正常", "异常", "暂停"]
    await engineer.presses("正常")
    assert engineer.heard("第 2/4 项：主管道水压")

    await sends_photo(engineer, "PHOTO-NOT-A-NUMBER")
    assert engineer.heard("这一项要输入数字（主管道水压），不是照片")
    await engineer.says("0.25")
    assert engineer.heard("第 3/4 项：过滤器照片")
    await sends_photo(engineer, "PHOTO-FILTER")
    assert engineer.heard("第 4/4 项：其他情况")
    await engineer.presses("跳过")
    assert engineer.heard("巡检完成：灌溉巡检")

    async with fl.db.transaction() as tx:
        got = {r.item_key: r for r in await tx.scalars(select(InspectionReading))}
    assert got["pump"].ok and got["pressure"].number == 0.25
    assert got["filter"].photo["mime"] == "image/jpeg"
    assert_within_wecom_limits(api)


# --- a shift swap --------------------------------------------------------------------------

async def test_a_colleague_accepts_a_swap_by_pressing_the_wecom_card(desk, engineer, zhao):
    fl, api, _ = desk
    await engineer.says("/swap")
    assert "1. 周二 11/24 08:00" in engineer.labels()  # the shifts, on as many cards as needed

    await engineer.presses("1. 周二 11/24 08:00")
    await engineer.presses("1. 赵工（一号园区）")
    assert engineer.heard("已请赵工替班：一号园区 周二 11/24 08:00–18:00")
    assert [b["text"] for b in card_with(zhao, "接受")["button_list"]] == ["接受", "拒绝"]

    await zhao.presses("接受")

    assert saw(zhao, "您已接受替张工值班")
    answered = [u["template_card"] for u in api.updates
                if u["template_card"]["task_id"] == card_with(zhao, "接受")["task_id"]]
    assert answered and not answered[-1]["button_list"]  # the card, updated: no buttons left
    assert saw(engineer, "赵工接受了替班：一号园区 周二 11/24 08:00–18:00")
    async with fl.db.transaction() as tx:
        swap = (await tx.scalars(select(ShiftSwap)))[0]
    assert swap.state == SwapState.ACCEPTED
    assert_within_wecom_limits(api)


async def test_an_unanswered_swap_lapses_and_the_colleagues_card_loses_its_buttons(desk,
                                                                                    engineer,
                                                                                    zhao):
    fl, api, _ = desk
    await engineer.says("换班")
    await engineer.says("1")  # the shift's number, typed
    await engineer.says("赵工")  # the colleague by name
    asked = card_with(zhao, "接受")

    fl.clock.set(datetime(2026, 11, 24, 0, 0, tzinfo=UTC))  # Tuesday 08:00: the shift begins
    await fl.sweeper.run_once()
    await fl.delivery.flush_all()

    assert saw(engineer, "班次开始前赵工没有回复，换班作废")
    lapsed = [u["template_card"] for u in api.updates
              if u["template_card"]["task_id"] == asked["task_id"]]
    assert lapsed and not lapsed[-1]["button_list"]  # with the code message/send gave
    assert "班次已经开始，张工的换班请求作废" in html.unescape(lapsed[-1]["sub_title_text"])
    await zhao.presses("接受")  # a stale tap on a card WeCom had not refreshed yet
    assert zhao.last() == "这个换班请求已经处理过了（已过期）。"
