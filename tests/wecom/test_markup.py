"""What people write reaches WeCom as text: a link typed into a report is never a link."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import Frontline, build
from bot.wecom import cards
from handlers.core.clock import FakeClock
from handlers.core.messages import Button
from storage.models import Role
from tests.fakes.wecom_api import FakeWeComApi
from tests.support.fakes import valve_kb
from tests.wecom.conftest import Caller, wecom_settings
from tests.wecom.test_wecom_ticket_life import person

PHISH = '<a href="http://evil.example/login">点此查看工单详情</a>'


@pytest.fixture
async def wecom_desk(database_url: str, tmp_path: Path) -> AsyncIterator[
        tuple[Frontline, FakeWeComApi, Caller]]:
    async with FakeWeComApi() as api:
        settings = wecom_settings(api.base_url, database_url=database_url, channels="wecom",
                                  files_dir=tmp_path / "files", service_manager="陈经理",
                                  support_hotline="400-800-1234")
        fl = await build(settings, clock=FakeClock(), kb=valve_kb())
        await fl.start(schedule=False)
        async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
            yield fl, api, Caller(client)
        await fl.stop()


async def test_a_link_in_a_report_reaches_the_engineer_and_manager_as_visible_text(wecom_desk):
    _, api, _ = wecom_desk
    reporter = await person(wecom_desk, "liming", "李明", Role.REPORTER, site="一号园区")
    engineer = await person(wecom_desk, "zhanggong", "张工", Role.ENGINEER, site="一号园区",
                            skills=["valve", "irrigation"])
    manager = await person(wecom_desk, "chen", "陈经理", Role.MANAGER)

    await reporter.says(f"3号地块电磁阀打不开，不出水 {PHISH}")
    await reporter.presses("没解决，报修")
    await reporter.presses("整个系统/平台不能用")  # a P1: the manager is told at once
    await reporter.presses("确认提交")

    assert engineer.heard("FL-000001") and manager.heard("FL-000001")
    for who in (engineer, manager, reporter):
        assert api.links_to(who.user_id) == []  # nothing WeCom would render as a link
        assert any(PHISH in shown for shown in api.shown_to(who.user_id))  # shown as written


def test_cards_escape_titles_subtitles_labels_and_replace_text():
    body = cards.card(f"<b>标题</b>\n{PHISH} & 更多", [Button("<i>接单</i>", "t:1:ack")],
                      "task", full=True, replace_text="<a href='x'>已接单</a>")
    flat = str(body)
    assert "<" not in flat and ">" not in flat
    assert body["main_title"]["title"] == "&lt;b&gt;标题&lt;/b&gt;"
    assert "&amp; 更多" in body["sub_title_text"]
    assert body["button_list"][0]["text"] == "&lt;i&gt;接单&lt;/i&gt;"
    assert body["button_list"][0]["key"] == "t:1:ack"  # our token, untouched


def test_long_text_is_split_within_the_limit_once_escaped_and_never_inside_an_entity():
    text = "<&>" * 1000
    pieces = cards.split_text(text)
    assert "".join(pieces) == text
    for piece in pieces:
        content = cards.text_message("u", 1, piece)["text"]["content"]
        assert len(content.encode()) <= cards.TEXT_MAX_BYTES
        assert not content.endswith(("&", "&l", "&lt", "&g", "&gt", "&a", "&am", "&amp"))
