"""Consent to remote work through the real python-telegram-bot client and the fake Bot API:
the 同意 / 不同意 buttons arrive as an inline keyboard, a press and a typed answer both work."""

from __future__ import annotations

from bot.bootstrap import Frontline
from storage.models import Progress, Ticket
from tests.fakes.telegram_api import FakeBotApi
from tests.telegram.test_telegram import ENGINEER, REPORTER, button, heard, press


async def progress(fl: Frontline) -> str:
    async with fl.db.transaction() as tx:
        ticket = await tx.get(Ticket, 1)
        assert ticket is not None
        return ticket.progress


def times(api: FakeBotApi, chat: int, fragment: str) -> int:
    return sum(fragment in t for t in api.texts_to(chat))


async def test_decline_by_button_then_agree_in_words_on_telegram(polling, api):
    api.say(REPORTER, "李明", "电磁阀打不开")
    await api.wait_for(heard(api, REPORTER, "《电磁阀打不开》"))
    await press(api, REPORTER, "没解决，报修", (REPORTER, "影响范围"))
    await press(api, REPORTER, "单个设备", (REPORTER, "请确认报修信息"))
    await press(api, REPORTER, "确认提交", (ENGINEER, "【新工单】"))
    await press(api, ENGINEER, "接单", (ENGINEER, "您已接下工单"))

    await press(api, ENGINEER, "远程处理", (ENGINEER, "一句话说明要做什么"))
    api.say(ENGINEER, "张工", "远程重启网关")
    await api.wait_for(heard(api, REPORTER, "「远程重启网关」"))
    assert button(api, REPORTER, "同意").endswith(":cs_yes:1")

    await press(api, REPORTER, "不同意", (ENGINEER, "李明 不同意远程操作"))
    assert button(api, ENGINEER, "出发去现场")
    assert await progress(polling) == ""

    api.press(ENGINEER, "x", button(api, ENGINEER, "远程处理"))  # asked anew
    await api.wait_for(lambda: times(api, ENGINEER, "一句话说明要做什么") == 2)
    api.say(ENGINEER, "张工", "远程改灌溉计划")
    await api.wait_for(heard(api, REPORTER, "「远程改灌溉计划」"))
    api.say(REPORTER, "李明", "同意")
    await api.wait_for(heard(api, ENGINEER, "李明 同意了，可以开始远程操作"))
    assert await progress(polling) == Progress.REMOTE
