"""A scheduled inspection through the real python-telegram-bot client and the fake Bot API:
the checklist arrives with its buttons, the presses, a typed reading and a photo answer it, and
a fault becomes a ticket."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.handlers.test_inspections import PLANS
from tests.telegram.test_telegram import ENGINEER, heard, press


@pytest.fixture
def settings(settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    plans = tmp_path / "inspections.toml"
    plans.write_text(PLANS, "utf-8")
    return settings.model_copy(update={"inspections_file": plans})


async def test_a_checklist_is_answered_with_buttons_text_and_a_photo_on_telegram(polling, api,
                                                                                clock):
    clock.advance(hours=1)
    await polling.sweeper.run_once()
    await api.wait_for(heard(api, ENGINEER, "【巡检】灌溉巡检"))

    await press(api, ENGINEER, "开始", (ENGINEER, "第 1/4 项：水泵运行正常"))
    await press(api, ENGINEER, "异常", (ENGINEER, "哪里不正常"))
    api.say(ENGINEER, "张工", "漏油")
    await api.wait_for(heard(api, ENGINEER, "第 2/4 项：主管道水压"))
    api.send_photo(ENGINEER, "张工", b"\xff\xd8\xffjpeg")  # a photo where a number is asked
    await api.wait_for(heard(api, ENGINEER, "这一项要输入数字（主管道水压），不是照片"))
    api.say(ENGINEER, "张工", "0.3MPa")
    await api.wait_for(heard(api, ENGINEER, "第 3/4 项：过滤器照片"))
    api.send_photo(ENGINEER, "张工", b"\xff\xd8\xffjpeg-filter")
    await api.wait_for(heard(api, ENGINEER, "第 4/4 项：其他情况"))
    await press(api, ENGINEER, "跳过", (ENGINEER, "巡检完成：灌溉巡检"))

    done = next(t for t in api.texts_to(ENGINEER) if "巡检完成：" in t)
    assert "• 水泵运行正常：异常（漏油） → 工单 FL-000001" in done
    await api.wait_for(heard(api, ENGINEER, "【新工单】FL-000001"))  # paged like any ticket
