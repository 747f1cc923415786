"""Issue 16, "Intake": a system-down or safety report gets its ticket at once (articles may
follow, with nothing that could cancel it); emoji after "new fault" are asked for words."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.flows.intake.urgency import at_once
from handlers.rules.triage import Impact
from storage.models import SelfServiceAttempt, Ticket, TicketStatus
from tests.handlers.test_ticket_life import report_valve_fault
from tests.support.chat import labels
from tests.support.fakes import FakeArticle


async def only_ticket(app) -> Ticket:  # type: ignore[no-untyped-def]
    async with app.db.transaction() as tx:
        [ticket] = await tx.scalars(select(Ticket))
    return ticket


def irrigation_article(app) -> None:  # type: ignore[no-untyped-def]
    app.kb.add(FakeArticle("irrigation-down", "灌溉系统全部停止",
                           "1. 看控制柜总电源指示灯。\n2. 看主泵是否跳闸。", "irrigation"),
               "灌溉系统")


async def test_a_system_down_report_opens_the_ticket_without_self_service_first(
        app, reporter, engineer, manager):
    irrigation_article(app)
    await reporter.says("整个灌溉系统都停了")

    opened, tips = reporter.inbox()[-2:]
    assert opened.text.startswith("已登记工单 FL-000001（P1 紧急）")
    assert labels(opened) == ["催单"]
    assert tips.text.startswith("等待工程师时可以先试试：")
    assert "《灌溉系统全部停止》" in tips.text and "1. 看控制柜总电源指示灯。" in tips.text
    assert labels(tips) == []  # no 已解决 that could cancel a P1
    assert not reporter.heard("影响范围") and not reporter.heard("问题解决了吗")

    ticket = await only_ticket(app)
    assert (ticket.priority, ticket.impact) == ("P1", "whole")
    assert ticket.category == "irrigation" and ticket.kb_shown == ["irrigation-down"]
    assert engineer.heard("【新工单】FL-000001") and manager.heard("【紧急工单】FL-000001")
    async with app.db.transaction() as tx:  # shown after the ticket: not a self-service try
        assert await tx.scalars(select(SelfServiceAttempt)) == []


async def test_a_safety_report_with_no_article_opens_the_ticket_alone(app, reporter, engineer):
    await reporter.says("控制箱冒烟了")

    assert reporter.last().text.startswith("已登记工单 FL-000001（P1 紧急）")
    assert not reporter.heard("等待工程师时可以先试试")
    ticket = await only_ticket(app)
    assert (ticket.priority, ticket.impact, ticket.status) == ("P1", "single", TicketStatus.PAGED)


async def test_the_photo_sent_before_a_p1_report_goes_with_its_ticket(app, reporter, engineer):
    ref = await app.files.save(b"\xff\xd8jpeg", "box.jpg", "image/jpeg")
    await reporter.sends_photo(ref)
    await reporter.says("控制箱冒烟了")

    assert [a["key"] for a in (await only_ticket(app)).attachments] == [ref.key]


async def test_an_area_or_a_single_device_still_goes_through_self_service(app, reporter):
    await reporter.says("东区电磁阀全部停了")  # an area (no system named): the usual way
    assert "《电磁阀打不开》" in reporter.last().text and "没解决，报修" in labels(reporter.last())


async def test_a_stranger_waiting_for_approval_pages_nobody_with_a_p1(app, cast, engineer,
                                                                     manager):
    stranger = cast.user("s1")
    await stranger.says("/start")
    await stranger.says("赵六")
    await stranger.says("二号园区")
    await stranger.says("整个灌溉系统都停了")

    assert "等待服务经理批准" in stranger.last().text
    assert not engineer.heard("【新工单】") and not manager.heard("【紧急工单】")
    async with app.db.transaction() as tx:
        assert await tx.scalars(select(Ticket)) == []


@pytest.mark.parametrize(("text", "impact"), [
    ("整个灌溉系统都停了", Impact.WHOLE), ("全园系统瘫痪", Impact.WHOLE),
    ("the whole irrigation system is down", Impact.WHOLE), ("水泵冒烟了，全部停了", Impact.SINGLE),
    ("不急，但控制箱冒烟了", Impact.SINGLE),
    ("东区全部停了", None), ("平台打不开", None), ("电磁阀打不开 <b>加急</b> *全部*", None),
    ("3号地块电磁阀打不开", None),
])
def test_which_words_open_a_ticket_at_once(text, impact):
    assert at_once(text) == impact


# --- emoji after "new fault" ----------------------------------------------------------------
async def test_emoji_after_choosing_new_fault_asks_for_words_not_where_they_belong(
        app, reporter, engineer):
    await report_valve_fault(reporter)
    await reporter.says("👍👍")
    assert "补充到已有工单" in reporter.last().text
    await reporter.presses("这是新的故障")
    assert "请用文字说说这个新故障" in reporter.last().text

    for more in ("😡", "！！！", "🙏 🙏"):
        await reporter.says(more)
        assert "请用文字说说这个新故障" in reporter.last().text
        assert "补充到已有工单" not in reporter.last().text

    await reporter.says("坏")  # a word, but too few: asked for more, still about the new fault
    assert "请再具体一点" in reporter.last().text
    await reporter.says("2号棚的摄像头黑屏了")
    assert "影响范围" in reporter.last().text  # the new report goes on (no article covers it)


async def test_emoji_alone_is_not_a_fault_description(app, reporter):
    await reporter.says("😀😀😀😀😀")
    assert "请再具体一点" in reporter.last().text
    async with app.db.transaction() as tx:  # nothing was searched or offered for it
        assert await tx.scalars(select(SelfServiceAttempt)) == []
    assert app.kb.queries == []
