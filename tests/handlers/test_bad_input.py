"""Every bad input gets a clear reply, and nothing is lost."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from handlers.core.messages import Incoming, Kind
from handlers.flows.intake import report
from handlers.flows.jobs import paging
from storage.models import Person, Ticket, TicketEvent
from tests.handlers.test_ticket_life import report_valve_fault, resolve
from tests.support.chat import labels, settle


async def count(app, model) -> int:
    async with app.db.transaction() as tx:
        return await tx.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
async def test_an_empty_message_is_answered(reporter, text):
    await reporter.send(reporter.incoming(Kind.TEXT, text=text))
    assert "消息是空的" in reporter.last().text


async def test_a_huge_message_is_kept_up_to_the_limit_and_the_reporter_told(app, reporter):
    await reporter.says("电磁阀打不开" + "很" * 10_000)

    assert reporter.heard("已保留前 2000 个字")
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    await reporter.presses("确认提交")
    async with app.db.transaction() as tx:
        ticket = await tx.get(Ticket, 1)
    assert len(ticket.description) == 2000


async def test_stickers_and_other_unsupported_content_are_answered(reporter):
    await reporter.send(reporter.incoming(Kind.UNSUPPORTED, raw_kind="sticker"))
    assert "无法处理这类消息" in reporter.last().text


async def test_an_unknown_command_lists_the_commands(reporter):
    await reporter.says("/frobnicate")
    assert "/frobnicate" in reporter.last().text and "/help" in reporter.last().text


async def test_a_button_pressed_twice_is_answered_not_repeated(app, reporter, engineer):
    await report_valve_fault(reporter)
    accept = engineer.button("接单")
    await engineer.presses_data(accept)
    before = len(reporter.inbox())

    await engineer.presses_data(accept)

    assert "已经由您接单" in engineer.last().text
    assert len(reporter.inbox()) == before  # the reporter is not told twice


async def test_a_reporter_cannot_press_an_engineers_accept(app, reporter, engineer):
    await report_valve_fault(reporter)
    await reporter.presses_data(engineer.button("接单"))
    assert "没有权限" in reporter.last().text
    async with app.db.transaction() as tx:
        assert (await tx.get(Ticket, 1)).assignee_id is None


async def test_a_second_engineer_pressing_accept_late_is_told_who_took_it(
    reporter, engineer, engineer2
):
    await report_valve_fault(reporter)
    await engineer.presses("拒单")
    await engineer2.presses("接单")

    await engineer.presses_data("t:1:ack")  # an old Accept, pressed after declining
    assert "已由 王工 接单" in engineer.last().text


async def test_a_button_pressed_after_the_ticket_moved_on_is_stale(reporter, engineer):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await resolve(engineer, "操作错误", ("误关了阀门", "指导打开", "阀门贴上标签"))
    await reporter.presses("已解决")

    await engineer.presses("出发去现场")
    assert "已过期" in engineer.last().text


FORGED = ["t:999:ack", "t:1:explode", "x:1:ack", "t:abc:ack", "i:zz:submit", "t:1:" + "a" * 80]


@pytest.mark.parametrize("data", FORGED)
async def test_forged_buttons_get_a_clear_answer(reporter, engineer, data):
    await report_valve_fault(reporter)
    await reporter.presses_data(data)
    assert any(w in reporter.last().text for w in ("无法识别", "已结束", "没有权限", "已过期"))


async def test_a_stale_report_button_does_not_act_on_a_new_report(app, reporter, engineer):
    await reporter.says("电磁阀打不开")
    old_solved = reporter.button("已解决")
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    await reporter.presses("确认提交")

    await reporter.presses_data(old_solved)
    assert "已结束" in reporter.last().text


async def test_an_unknown_person_is_offered_registration_and_their_report_kept(app, cast,
                                                                                 engineer):
    code = await cast.invitation("二号园区")
    stranger = cast.user("s1")
    await stranger.says("电磁阀打不开，二号地块")
    assert "姓名" in stranger.last().text
    await stranger.says("赵六")
    assert "园区" in stranger.last().text
    await stranger.says(code)  # the invitation's code at the site question: its site

    assert stranger.heard("登记完成")
    assert stranger.heard("《电磁阀打不开》")  # the first message became the report
    async with app.db.transaction() as tx:
        person = (await tx.scalars(select(Person).where(Person.name == "赵六")))[0]
    assert person.role == "reporter" and person.site == "二号园区"


async def test_registration_refuses_an_empty_or_huge_name(cast):
    stranger = cast.user("s2")
    await stranger.says("/start")
    await stranger.says("名" * 60)
    assert "不超过 50 个字" in stranger.last().text


async def test_the_same_update_twice_is_handled_once(app, reporter, engineer):
    inc = reporter.incoming(Kind.TEXT, text="电磁阀打不开")
    await reporter.send(inc)
    n = len(reporter.inbox())
    await reporter.send(inc)
    assert len(reporter.inbox()) == n


async def test_a_database_error_mid_step_leaves_no_half_written_ticket(app, reporter, engineer,
                                                                      monkeypatch):
    await reporter.says("电磁阀打不开")
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    submit = reporter.button("确认提交")

    async def broken_paging(ctx, ticket):
        raise OperationalError("INSERT INTO page", {}, Exception("database is locked"))

    monkeypatch.setattr(paging, "page_next", broken_paging)
    await reporter.presses_data(submit)
    assert "请稍后再发一次" in reporter.last().text
    assert await count(app, Ticket) == 0 and await count(app, TicketEvent) == 0

    monkeypatch.undo()
    await reporter.presses_data(submit)  # the person retries: it works, once
    assert "已登记工单 FL-" in reporter.last().text  # (PostgreSQL sequences may skip a number)
    assert await count(app, Ticket) == 1


async def test_an_unexpected_bug_is_answered_and_logged_not_raised(app, reporter, monkeypatch,
                                                                  caplog):
    async def bug(ctx, text):
        raise ZeroDivisionError

    monkeypatch.setattr(report, "start", bug)
    await reporter.says("电磁阀打不开")
    assert "系统出了点问题" in reporter.last().text
    assert "handler failed" in caplog.text


async def test_a_photo_that_could_not_be_fetched_is_explained(reporter):
    await reporter.sends_photo(None)
    assert "照片没有收到" in reporter.last().text


async def test_a_photo_during_a_report_is_attached_to_the_ticket(app, reporter, engineer):
    from handlers.core.messages import FileRef

    await reporter.says("电磁阀打不开")
    await reporter.sends_photo(FileRef("abc.jpg", "valve.jpg", "image/jpeg", 1200))
    assert "附在这次报修" in reporter.last().text
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    assert "照片：1 张" in reporter.last().text
    await reporter.presses("确认提交")
    async with app.db.transaction() as tx:
        assert (await tx.get(Ticket, 1)).attachments[0]["key"] == "abc.jpg"


async def test_two_quick_messages_of_one_person_do_not_race(app, reporter):
    import asyncio

    await reporter.says("电磁阀打不开")
    a = reporter.incoming(Kind.TEXT, text="在3号地块")
    b = reporter.incoming(Kind.TEXT, text="从昨天开始")
    await asyncio.gather(app.receive(a), app.receive(b))
    await settle(app)
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    summary = reporter.last().text
    assert "在3号地块" in summary and "从昨天开始" in summary


def test_labels_helper_reads_buttons():
    from handlers.core.messages import Button, Outgoing

    msg = Outgoing("fake", "1", "x", "k", ((Button("a", "1"),),))
    assert labels(msg) == ["a"]


async def test_an_incoming_from_a_stranger_pressing_a_button_is_asked_to_register(cast):
    stranger = cast.user("s3")
    await stranger.send(Incoming("fake", "s3", "s3", "btn-1", Kind.BUTTON, data="t:1:ack"))
    assert "请先登记" in stranger.last().text
