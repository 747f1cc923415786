"""The whole ticket life in chat: report → ticket → page → accept → progress → resolve."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

import handlers
from handlers.core.messages import Kind
from storage.models import Ticket, TicketEvent, TicketStatus
from tests.support.chat import labels


async def resolve(engineer, fault_type: str = "通讯线路或硬件故障",
                  record: tuple[str, str, str] = ("线圈老化烧坏", "更换电磁阀线圈",
                                                  "每季度检查线圈电阻")) -> None:
    """The engineer's closing record: fault type, cause, fix, prevention; no spare parts."""
    await engineer.presses("已解决")
    await engineer.presses(fault_type)
    for text in record:
        await engineer.says(text)
    await engineer.presses("没有用备件")  # the managers' report waits for this answer


async def report_uncovered_fault(reporter) -> None:
    """A fault no article covers (the fake knowledge base knows only valves)."""
    await reporter.says("杀虫灯晚上不亮")
    await reporter.presses("单个设备")
    await reporter.presses("确认提交")


async def report_valve_fault(reporter, impact: str = "单个设备") -> None:
    await reporter.says("3号地块电磁阀打不开，不出水")
    if "补充到已有工单" in reporter.last().text:  # they have an open ticket already
        await reporter.presses("这是新的故障")
    assert "《电磁阀打不开》" in reporter.inbox()[-1].text
    await reporter.presses("没解决，报修")
    assert "影响范围" in reporter.last().text
    await reporter.presses(impact)
    await reporter.presses("确认提交")


async def test_a_reporter_gets_a_ticket_number_and_plain_deadlines(reporter, engineer):
    await report_valve_fault(reporter, impact="整个系统/平台不能用")

    opened = reporter.last().text
    assert "FL-000001" in opened and "P1 紧急" in opened
    assert "工程师将在2小时内响应，4小时内解决" in opened


async def test_the_whole_ticket_life_in_chat(app, reporter, engineer, engineer2, manager):
    await report_valve_fault(reporter)
    assert "工程师将在8小时内响应，24小时内解决" in reporter.last().text

    page = engineer.last()
    assert "FL-000001" in page.text and labels(page) == ["接单", "拒单"]
    assert engineer2.inbox() == []  # the valve expert at the site is paged first

    await engineer.presses("接单")
    assert "张工" in reporter.last().text and "FL-000001" in reporter.last().text
    assert "拒单" not in labels(engineer.inbox()[0])  # the page lost its stale buttons

    await engineer.presses("出发去现场")
    assert "正在赶往现场" in reporter.last().text
    await engineer.presses("已到现场")
    assert "已到达现场" in reporter.last().text

    await engineer.presses("已解决")
    await engineer.presses("通讯线路或硬件故障")
    await engineer.says("线圈烧坏")
    await engineer.says("更换了电磁阀线圈")
    assert "防止再次发生" in engineer.last().text
    await engineer.says("雷雨季前检查线圈")
    resolved = next(m for m in reversed(reporter.inbox()) if "处理完毕" in m.text)
    assert reporter.last() is resolved  # the summary with its buttons ends the chat
    assert "线圈烧坏" in resolved.text and "更换了电磁阀线圈" in resolved.text
    assert labels(resolved) == ["已解决", "还没好"]

    await reporter.presses("已解决")
    assert "我们会在24小时后回访" in reporter.last().text
    assert "已确认" in engineer.last().text

    async with app.db.transaction() as tx:
        ticket = await tx.get(Ticket, 1)
        kinds = await tx.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == 1))
    assert ticket.status == TicketStatus.RESOLVED and ticket.confirmed_at is not None
    assert ticket.prevention == "雷雨季前检查线圈"
    assert ticket.fault_type == "hardware" and ticket.cause == "线圈烧坏"
    assert ticket.responded_at is not None and ticket.resolved_at is not None
    assert {"created", "status", "accepted"} <= set(kinds)


async def test_not_fixed_reopens_to_the_same_engineer(app, clock, reporter, engineer):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await engineer.presses("远程处理")
    await resolve(engineer, "配置错误", ("灌溉计划被删了", "重新设置了计划", "计划改动需经理确认"))
    clock.advance(hours=30)

    await reporter.presses("还没好")

    assert "重新打开" in reporter.last().text
    assert "还没好" in engineer.last().text and "已解决" in labels(engineer.last())
    async with app.db.transaction() as tx:
        ticket = await tx.get(Ticket, 1)
    assert ticket.status == TicketStatus.REOPENED and ticket.assignee_id is not None
    # a fresh resolution window from the reopening: P3 has 24 h (the service plan's table)
    assert ticket.priority == "P3"
    assert ticket.resolve_due == clock.now() + timedelta(hours=24)
    assert ticket.resolve_due > clock.now()


async def test_a_self_service_answer_can_solve_it_without_a_ticket(app, reporter, engineer):
    await reporter.says("电磁阀打不开")
    await reporter.presses("已解决")

    assert "太好了" in reporter.last().text
    assert engineer.inbox() == []
    async with app.db.transaction() as tx:
        assert await tx.scalar(select(func.count()).select_from(Ticket)) == 0


async def test_a_report_in_english_gets_english_answers(reporter, engineer):
    await reporter.says("/lang en")
    assert "English" in reporter.last().text
    await reporter.says("The pump in plot 2 stopped, cannot irrigate")
    await reporter.presses("A plot or a class of devices")
    await reporter.presses("Submit")

    text = reporter.last().text
    assert "FL-000001" in text and "P1 urgent" in text  # urgency words raised it
    assert "within 2 h" in text and "within 4 h" in text
    assert "新工单" in engineer.last().text  # the engineer keeps their own language


async def test_decline_pages_the_next_engineer_then_the_manager(reporter, engineer, engineer2,
                                                               manager):
    await report_valve_fault(reporter)
    await engineer.presses("拒单")
    assert "FL-000001" in engineer2.last().text and "接单" in labels(engineer2.last())

    await engineer2.presses("拒单")
    assert "无人接单" in manager.last().text


async def test_a_p1_informs_the_manager_at_once(reporter, engineer, manager):
    await report_valve_fault(reporter, impact="整个系统/平台不能用")
    assert "紧急工单" in manager.last().text


async def test_status_lists_open_tickets_with_deadlines(reporter, engineer):
    await report_valve_fault(reporter)
    await reporter.says("/status")
    text = reporter.last().text
    assert "FL-000001" in text and "等待接单" in text and "解决截止" in text

    await engineer.presses("接单")
    await engineer.says("/status")
    assert "FL-000001" in engineer.last().text


async def test_cancel_leaves_a_half_filled_report(app, reporter, engineer):
    await reporter.says("电磁阀打不开")
    await reporter.presses("没解决，报修")
    await reporter.says("/cancel")
    assert "没有提交任何内容" in reporter.last().text

    await reporter.says("/cancel")
    assert "没有正在填写" in reporter.last().text
    async with app.db.transaction() as tx:
        assert await tx.scalar(select(func.count()).select_from(Ticket)) == 0


async def test_help_names_the_company_and_the_hotline(reporter):
    await reporter.says("/help")
    assert "荔枝智慧果园" in reporter.last().text and "400-800-1234" in reporter.last().text
    assert "有问题请联系陈经理" in reporter.last().text and "/duty" not in reporter.last().text


async def test_help_fits_the_role(engineer, manager):
    await engineer.says("/help")
    assert "点“接单”或“拒单”" in engineer.last().text and "/duty" in engineer.last().text
    assert "/drafts" not in engineer.last().text
    await manager.says("/help")
    assert "/report" in manager.last().text and "/invite" in manager.last().text


async def test_the_engineer_is_offered_only_the_steps_that_fit(app, reporter, engineer):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    assert labels(engineer.last())[:3] == ["远程处理", "出发去现场", "已到现场"]
    old_on_the_way = engineer.button("出发去现场")
    await engineer.presses("出发去现场")
    assert "远程处理" not in labels(engineer.last())
    await engineer.presses("已到现场")
    assert not {"远程处理", "出发去现场", "已到现场"} & set(labels(engineer.last()))
    assert "已解决" in labels(engineer.last())

    await engineer.presses_data(old_on_the_way)  # an earlier message's button

    assert engineer.last().text == "工单 FL-000001 已经是“已到现场”，这个按钮不用再按了。"
    async with app.db.transaction() as tx:
        assert (await tx.get(Ticket, 1)).progress == "on_site"


async def test_no_prevention_is_a_fair_answer(app, reporter, engineer):
    await report_valve_fault(reporter)
    await engineer.presses("接单")

    await resolve(engineer, record=("线圈老化", "更换线圈", "无"))

    async with app.db.transaction() as tx:
        ticket = await tx.get(Ticket, 1)
    assert (ticket.status, ticket.prevention) == (TicketStatus.RESOLVED, "无")


async def test_a_priority_command_on_a_resolved_ticket_says_why_not(app, reporter, engineer,
                                                                   manager):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await resolve(engineer)

    await manager.says("/priority FL-000001 P1")

    assert manager.last().text == "工单 FL-000001 现在是“待确认”，不能再改优先级或分类。"


async def test_with_no_engineer_to_page_nobody_is_promised_a_response(reporter, manager):
    await report_valve_fault(reporter)  # no engineer is registered

    assert "暂时没有能接单的工程师，已请服务经理马上安排" in reporter.last().text
    assert "工程师将在" not in reporter.last().text
    assert manager.heard("【无人接单】工单 FL-000001")


async def test_the_second_policy_promises_working_days_and_the_site_visit(app, reporter,
                                                                          engineer):
    policy = Path(handlers.__file__).parent / "policies" / "major-urgent-general.toml"
    app.desk.config = app.desk.config.model_copy(update={"sla_policy_file": policy})

    await report_valve_fault(reporter)  # P3 一般 there: 2 h, on site 8 h, 3 working days

    assert "工程师将在2小时内响应、8小时内到场，3个工作日内解决" in reporter.last().text
    assert "0小时" not in reporter.transcript()


async def test_photos_and_the_location_sent_with_a_report_reach_the_engineer(app, reporter,
                                                                             engineer):
    ref = await app.files.save(b"\xff\xd8jpeg", "valve.jpg", "image/jpeg")
    await reporter.says("电磁阀打不开")
    await reporter.sends_photo(ref)
    await reporter.send(reporter.incoming(Kind.LOCATION, location=(22.5431, 114.0579)))
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    await reporter.presses("确认提交")
    assert "附件：照片 1 张和位置（接单后发给您）" in engineer.last().text

    await engineer.presses("接单")

    photos = [m for m in engineer.inbox() if m.files]
    assert photos and photos[-1].files[0].key == ref.key
    assert "工单 FL-000001 报修时附带的照片（1 张）" in photos[-1].text
    assert engineer.heard("工单 FL-000001 报修时发来的位置：22.5431, 114.0579")


async def test_words_typed_at_a_form_question_are_kept_apart_from_the_fault(app, reporter,
                                                                           engineer):
    await reporter.says("电磁阀打不开")
    await reporter.presses("没解决，报修")
    await reporter.says("asdfgh 你好吗")  # typed at the impact question

    assert reporter.heard("已单独记下这句补充说明（故障描述不变）")
    await reporter.presses("单个设备")
    assert "描述：电磁阀打不开\n" in reporter.last().text
    assert "补充说明：asdfgh 你好吗" in reporter.last().text
    await reporter.presses("确认提交")

    async with app.db.transaction() as tx:
        ticket = await tx.get(Ticket, 1)
    assert ticket.description == "电磁阀打不开\n【补充说明】asdfgh 你好吗"
