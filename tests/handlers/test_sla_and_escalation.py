"""SLA clocks kept with nobody watching: ack timeouts, warnings, breaches, tiers, pauses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from handlers.core.messages import Kind
from storage.models import Person, Role, Ticket, TicketEvent, TicketStatus, Timer
from tests.handlers.test_ticket_life import report_valve_fault, resolve
from tests.support.chat import labels, settle


async def tick(app, clock, **delta) -> None:
    clock.advance(**delta)
    await app.sweeper.run_once()
    await settle(app)


async def ticket(app, ticket_id: int = 1) -> Ticket:
    async with app.db.transaction() as tx:
        return await tx.get(Ticket, ticket_id)


async def person_id(app, name: str) -> int:
    async with app.db.transaction() as tx:
        return (await tx.scalars(select(Person.id).where(Person.name == name)))[0]


async def events(app, kind: str) -> list[TicketEvent]:
    async with app.db.transaction() as tx:
        return await tx.scalars(select(TicketEvent).where(TicketEvent.kind == kind))


async def test_the_ack_timeout_chain_runs_through_two_engineers_to_the_manager(
    app, clock, reporter, engineer, engineer2, manager
):
    await report_valve_fault(reporter)  # P3: 60 minutes to accept a page
    assert "60分钟内" in engineer.last().text and engineer2.inbox() == []

    await tick(app, clock, minutes=59)
    assert engineer2.inbox() == []
    await tick(app, clock, minutes=1)
    assert "FL-000001" in engineer2.last().text  # the next engineer is paged too

    await tick(app, clock, minutes=60)
    assert "无人接单" in manager.last().text
    await tick(app, clock, minutes=60)
    assert len([m for m in manager.inbox() if "无人接单" in m.text]) == 1  # told once

    await engineer.presses("接单")  # the first page is still open: it can still be accepted
    assert "张工" in reporter.last().text
    assert "已由 张工 接单" in engineer2.inbox()[0].text  # the other page is edited


async def test_two_simultaneous_accepts_give_the_job_to_exactly_one(
    app, clock, reporter, engineer, engineer2
):
    await report_valve_fault(reporter)
    await tick(app, clock, minutes=61)
    a = engineer.incoming(Kind.BUTTON, data="t:1:ack")
    b = engineer2.incoming(Kind.BUTTON, data="t:1:ack")
    await asyncio.gather(app.receive(a), app.receive(b))
    await settle(app)

    t = await ticket(app)
    first = t.assignee_id == await person_id(app, "张工")
    winner, loser = (engineer, engineer2) if first else (engineer2, engineer)
    assert t.status == TicketStatus.ACKNOWLEDGED
    assert "您已接下工单" in winner.last().text
    assert "已由" in loser.last().text  # told who took it
    assert len(await events(app, "accepted")) == 1


async def test_a_p1_warns_at_75_percent_then_breaches_and_escalates_to_the_expert(
    app, clock, cast, reporter, engineer, manager
):
    expert = await cast.add("x1", "刘专家", Role.EXPERT, skills=["valve"])
    await report_valve_fault(reporter, impact="整个系统/平台不能用")  # P1: 2 h / 4 h
    await engineer.presses("接单")

    await tick(app, clock, hours=2, minutes=59)
    assert not engineer.heard("解决时限快到了")
    await tick(app, clock, minutes=1)  # 75 % of 4 h
    assert engineer.heard("解决时限快到了")

    await tick(app, clock, hours=1)
    assert manager.heard("超时未解决")
    assert "升级：技术专家" in expert.last().text and "处理记录" in expert.last().text
    assert "接单" in expert.last().text  # the history shows who accepted
    assert reporter.heard("升级给技术专家")

    await expert.presses("接手")
    assert (await ticket(app)).assignee_id == await person_id(app, "刘专家")
    assert engineer.heard("已由 刘专家 接手") and reporter.heard("刘专家 已接手")


async def test_by_the_clock_a_job_climbs_to_the_vendor_and_the_breach_counts_once(
    app, clock, cast, reporter, engineer, manager
):
    expert = await cast.add("x1", "刘专家", Role.EXPERT)
    vendor = await cast.add("v1", "原厂李工", Role.EXPERT, skills=["vendor"])
    await report_valve_fault(reporter, impact="整个系统/平台不能用")  # P1: resolve in 4 h
    await engineer.presses("接单")
    await tick(app, clock, hours=4)
    assert "升级：技术专家" in expert.last().text and vendor.inbox() == []

    await tick(app, clock, hours=4)  # the expert tier had a whole window too

    assert "原厂支持" in vendor.last().text
    assert (await ticket(app)).tier == 3
    assert len(await events(app, "sla_breached")) == 1  # one breach, two escalations
    assert len(await events(app, "escalated")) == 2
    await tick(app, clock, hours=8)
    assert len(await events(app, "escalated")) == 2  # the top tier: nothing further


async def test_a_job_nobody_holds_warns_the_managers_before_its_resolution_deadline(
    app, clock, reporter, manager
):
    await report_valve_fault(reporter)  # P3, no engineer registered: nobody can take it
    await tick(app, clock, hours=18)  # 75 % of 24 h

    assert "还没有人负责" in manager.last().text and "FL-000001" in manager.last().text


async def test_the_engineer_can_call_in_an_expert_then_the_vendor(
    app, clock, cast, reporter, engineer, manager
):
    expert = await cast.add("x1", "刘专家", Role.EXPERT)
    vendor = await cast.add("v1", "原厂李工", Role.EXPERT, skills=["vendor"])
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await engineer.presses("需要专家")
    assert "技术专家" in engineer.last().text
    assert expert.heard("工单升级") or expert.heard("升级：技术专家")
    assert vendor.inbox() == [] and manager.heard("工单升级")

    await expert.presses("接手")
    await expert.presses("需要专家")
    assert "原厂支持" in vendor.last().text
    await expert.presses("需要专家")
    assert "最高支持级别" in expert.last().text


async def test_a_priority_change_is_recorded_and_recomputes_the_deadlines(
    app, clock, reporter, engineer
):
    await report_valve_fault(reporter)  # P3
    await engineer.presses("接单")
    clock.advance(hours=1)
    await engineer.presses("改优先级")
    await engineer.presses("P1 紧急")

    t = await ticket(app)
    assert t.priority == "P1"
    assert t.resolve_due == t.created_at + timedelta(hours=4)
    assert "P1 紧急" in reporter.last().text and "解决截止" in reporter.last().text
    change = (await events(app, "priority_changed"))[0]
    assert change.details == {"from": "P3", "to": "P1"}
    async with app.db.transaction() as tx:
        due = await tx.scalars(select(Timer).where(Timer.key == "resolve_due:1"))
    assert due[0].due_at == t.resolve_due


async def test_a_reporter_cannot_change_the_priority(app, reporter, engineer):
    await report_valve_fault(reporter)
    await reporter.says("/priority FL-000001 P1")
    assert "没有权限" in reporter.last().text
    assert (await ticket(app)).priority == "P3"


async def test_a_manager_changes_priority_and_category_by_command(app, reporter, engineer,
                                                                 manager):
    await report_valve_fault(reporter)
    await manager.says("/priority FL-000001 P2")
    assert "P2 重要" in manager.last().text
    await manager.says("/category FL-000001 pump")
    assert "水泵" in manager.last().text
    t = await ticket(app)
    assert (t.priority, t.category) == ("P2", "pump")
    await manager.says("/priority FL-000001 P9")
    assert "用法" in manager.last().text


async def test_the_clock_pauses_while_waiting_for_the_reporter(app, clock, reporter, engineer):
    await report_valve_fault(reporter)  # P3: resolve within 24 h
    await engineer.presses("接单")
    clock.advance(hours=4)
    await engineer.presses("询问报修人")
    await engineer.says("阀门上的指示灯是什么颜色？")
    assert "指示灯是什么颜色" in reporter.last().text
    before = (await ticket(app)).resolve_due

    await tick(app, clock, hours=30)  # past the old deadline, but the clock is stopped
    assert not engineer.heard("超过解决时限")
    await reporter.says("红灯一直亮")
    assert "红灯一直亮" in engineer.last().text

    t = await ticket(app)
    assert t.status == TicketStatus.IN_PROGRESS and t.paused_at is None
    assert t.resolve_due == before + timedelta(hours=30)


async def test_a_working_hours_policy_skips_the_weekend_and_a_holiday(settings, clock, channel):
    from pathlib import Path

    from bot.bootstrap import build
    from tests.conftest import Cast
    from tests.support.fakes import valve_kb

    policy = Path(__file__).parents[2] / "handlers/policies/major-urgent-general.toml"
    settings = settings.model_copy(update={"sla_policy_file": policy})
    clock.set(datetime(2026, 9, 30, 8, 0, tzinfo=UTC))  # Wed 16:00 in Shanghai, before 国庆
    fl = await build(settings, clock=clock, channels={"fake": channel}, kb=valve_kb())
    await fl.start(schedule=False)
    cast = Cast(fl, channel)
    reporter = await cast.add("r1", "李明", Role.REPORTER, site="一号园区")
    await cast.add("e1", "张工", Role.ENGINEER, skills=["valve"])
    await report_valve_fault(reporter)  # P3 = 一般: 3 working days, on a working calendar
    async with fl.db.transaction() as tx:
        t = await tx.get(Ticket, 1)
    await fl.stop()
    # Thu 1 Oct … Wed 7 Oct are holidays or the weekend; Sat 10 Oct is a swapped workday.
    # Working days after Wed 30 Sep: Thu 8, Fri 9, Sat 10 → due Sat 10 Oct 16:00 Shanghai.
    assert t.resolve_due == datetime(2026, 10, 10, 8, 0, tzinfo=UTC)
    # 2 working hours from Wed 16:00: 1.5 h on Wed, 0.5 h on Thu 8 Oct.
    assert t.response_due == datetime(2026, 10, 8, 1, 0, tzinfo=UTC)
    assert t.onsite_due is not None


async def test_urging_pings_the_assignee_at_most_every_30_minutes(app, clock, reporter,
                                                                 engineer):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await reporter.presses("催单")
    assert "在催工单 FL-000001" in engineer.last().text
    n = len(engineer.inbox())
    clock.advance(minutes=10)
    await reporter.says("催单")
    assert "已经催过" in reporter.last().text and len(engineer.inbox()) == n
    clock.advance(minutes=21)
    await reporter.says("催单")
    assert len(engineer.inbox()) == n + 1


async def test_a_reporter_adds_text_to_an_open_ticket(app, reporter, engineer):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await reporter.says("补充：旁边的2号阀也不动")
    assert "补充到已有工单" in reporter.last().text
    await reporter.presses("补充到 FL-000001")
    assert "2号阀也不动" in engineer.last().text
    assert "已补充到工单 FL-000001" in reporter.last().text


async def test_words_after_a_fix_are_asked_about_first_not_answered_with_articles(
        app, reporter, engineer):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await resolve(engineer)
    await reporter.says("谢谢师傅，电磁阀好了")
    assert "补充到已有工单" in reporter.last().text  # not a card about valves
    assert "《电磁阀打不开》" not in reporter.last().text
    assert "补充到 FL-000001" in labels(reporter.last())
    await reporter.presses("补充到 FL-000001")
    assert "已补充到工单 FL-000001" in reporter.last().text
    assert "电磁阀好了" in engineer.last().text and labels(engineer.last()) == []
    async with app.db.transaction() as tx:
        [ticket] = await tx.scalars(select(Ticket))
        notes = await tx.scalars(select(TicketEvent).where(TicketEvent.kind == "note"))
        assert ticket.status == TicketStatus.RESOLVED
        assert [n.details["text"] for n in notes] == ["谢谢师傅，电磁阀好了"]
        ticket.status = TicketStatus.CLOSED  # the call-back is over: the job is history
        tx.add(ticket)

    await reporter.says("3号地块电磁阀又打不开了")
    assert "《电磁阀打不开》" in reporter.last().text  # a new fault: self-service as usual


async def test_a_long_note_to_an_open_ticket_is_cut_and_the_reporter_told(app, reporter,
                                                                          engineer):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await reporter.says("阀" * 5000)
    await reporter.presses("补充到 FL-000001")

    assert reporter.heard("您的描述较长，已保留前 2000 个字。")
    assert "已补充到工单 FL-000001" in reporter.last().text


async def test_a_reporter_with_an_open_ticket_can_still_report_a_new_fault(app, reporter,
                                                                          engineer):
    await report_valve_fault(reporter)
    await reporter.says("摄像头黑屏了")
    await reporter.presses("这是新的故障")
    assert "影响范围" in reporter.last().text


async def test_open_lists_tickets_by_deadline_and_marks_breaches(app, clock, reporter, engineer,
                                                                manager):
    await report_valve_fault(reporter)  # P3
    await report_valve_fault(reporter, impact="整个系统/平台不能用")  # P1, sooner
    await manager.says("/open")
    text = manager.last().text
    assert text.index("FL-000002") < text.index("FL-000001")
    clock.advance(hours=3)
    await manager.says("/open")
    assert "已超时 1 张" in manager.last().text and "⚠️" in manager.last().text
    await reporter.says("/open")
    assert "没有权限" in reporter.last().text


async def test_the_daily_digest_reaches_each_manager_once(app, reporter, engineer, manager):
    await report_valve_fault(reporter)
    await app.daily_digest()
    await app.daily_digest()  # a second replica running the same cron job
    await settle(app)
    digests = [m for m in manager.inbox() if "每日SLA汇总" in m.text]
    assert len(digests) == 1 and "FL-000001" in digests[0].text


async def test_an_engineer_off_duty_or_off_rota_is_not_paged(app, clock, reporter, engineer,
                                                            engineer2):
    await engineer.says("/duty off")
    assert "不值班" in engineer.last().text
    async with app.db.transaction() as tx:
        e2 = (await tx.scalars(select(Person).where(Person.name == "王工")))[0]
        e2.rota = "sat-sun 08:00-18:00"  # the fake clock is a Monday
        tx.add(e2)
    await report_valve_fault(reporter)
    assert not engineer.heard("新工单") and not engineer2.heard("新工单")


async def test_two_sweepers_fire_each_timer_exactly_once(app, clock, reporter, engineer,
                                                        manager):
    from handlers.core.dispatch import TimerRunner
    from scheduler.sweep import Sweeper

    for _ in range(5):
        await report_valve_fault(reporter)
    clock.advance(hours=9)
    a = Sweeper(app.db, clock, TimerRunner(app.desk), worker_id="replica-a")
    b = Sweeper(app.db, clock, TimerRunner(app.desk), worker_id="replica-b")
    fired = await asyncio.gather(a.run_once(), b.run_once())
    await settle(app)
    breaches = [m for m in manager.inbox() if "超时未响应" in m.text]
    assert len(breaches) == 5 and sum(fired) == 15  # ack timeout, warning, breach × 5


async def test_buttons_show_the_engineer_every_action(reporter, engineer):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    assert {"询问报修人", "需要专家", "改优先级", "改分类"} <= set(labels(engineer.last()))
